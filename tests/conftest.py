"""Shared fixtures.

``kb_settings`` gives Settings whose data directory holds a real index of the repo's knowledge/.
The index is built once into a cache folder (incremental ingest makes later runs cheap) under a
file lock, then copied, so parallel test runs never write to the same Chroma directory.
``db_url`` runs a test on SQLite and on PostgreSQL (a fresh schema per test, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.config import CHECKOUT, Settings

CACHE = CHECKOUT / ".data" / "test-kb-cache"
SHARED_DATA = CHECKOUT.parent / "shared" / "data"
PG_BASE = os.environ.get("COPILOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from copilot.retrieval import ingest

    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE.parent / "test-kb-cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = ingest(None, Settings(data_dir=CACHE))
        assert report.ok, report.failed
        data_dir = tmp_path_factory.mktemp("kb")
        shutil.copytree(CACHE, data_dir, dirs_exist_ok=True)
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def kb_retriever(kb_settings: Settings):
    from copilot.retrieval import Retriever

    return Retriever(kb_settings)


MINI_CLAUSES = 12


@pytest.fixture
def mini_shared(tmp_path: Path, shared_data: Path) -> Path:
    """A shared/data folder holding the first Fin-Eva clauses of the real set and their questions."""
    from copilot.evaluation import retrieval

    src = shared_data / retrieval.FIN_EVA
    dst = tmp_path / "shared" / retrieval.FIN_EVA
    dst.mkdir(parents=True)
    for name in (retrieval.CORPUS_FILE, retrieval.QUERIES_FILE):
        lines = (src / name).read_text(encoding="utf-8").splitlines()[:MINI_CLAUSES]
        (dst / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}: CI checks out shared/ beside the repo")
    return SHARED_DATA


@contextlib.contextmanager
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL bound to a fresh schema, dropped afterwards, so parallel runs never collide.
    PostgreSQL is part of this machine: if it is unreachable the test fails, it is not skipped."""
    import psycopg

    from copilot.store import make_engine

    plain = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_BASE} is not reachable (it is part of this machine): {exc}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
        try:
            yield url
        finally:
            make_engine(url).dispose()
            make_engine.cache_clear()
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        with pg_schema_url() as url:
            yield url
