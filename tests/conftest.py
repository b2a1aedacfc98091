"""Shared fixtures.

``kb_settings`` gives Settings whose data directory holds a real index of the repo's knowledge/.
The index is built once into a cache folder (incremental ingest makes later runs cheap) under a
file lock, then copied, so parallel test runs never write to the same Chroma directory.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest

from copilot.config import CHECKOUT, Settings

CACHE = CHECKOUT / ".data" / "test-kb-cache"
SHARED_DATA = CHECKOUT.parent / "shared" / "data"


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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}: CI checks out shared/ beside the repo")
    return SHARED_DATA
