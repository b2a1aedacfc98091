"""The index directory missing: at start (never ingested, or the data volume lost it) and removed
under a running service. Search and drafts answer 503 with advice (run ``copilot ingest``), never a
500, and checks, which need no index, keep working; a reindex brings search back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api

from copilot.config import CHECKOUT, Settings

DRAFT = {"message": "大额存单多少钱起存？", "customer": {"segment": "payroll", "risk_level": "C3"}}


def _assert_unavailable_with_advice(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 503, resp.text
    err = error_of(resp)
    assert err["code"] == "index_empty", err
    assert "copilot ingest" in err["message"] or "重建索引" in err["message"], err
    assert resp.headers["retry-after"].isdigit()


SMALL_KB = ("products/QH-DEP-002.md", "products/QH-PEN-001.md")


@pytest.fixture
def small_kb(content_copy: Settings) -> Settings:
    """The content copy cut to a few documents and indexed afresh, so a rebuild takes seconds."""
    from copilot.retrieval import ingest

    knowledge = content_copy.content_root / "knowledge"
    keep = {knowledge / k for k in SMALL_KB}
    for path in sorted(knowledge.rglob("*"), reverse=True):
        if path.is_file() and not any(path == k or k in path.parents for k in keep):
            path.unlink()
    shutil.rmtree(content_copy.index_dir)
    assert ingest(None, content_copy).ok
    return content_copy


@pytest.fixture
def api(small_kb: Settings) -> Iterator[Api]:
    with make_api(small_kb) as a:
        yield a


def test_search_and_drafts_are_503_when_the_index_was_never_there(content_copy: Settings) -> None:
    shutil.rmtree(content_copy.index_dir)
    with make_api(content_copy) as api:
        _assert_unavailable_with_advice(api.get("/v1/search", params={"q": "大额存单"}))
        _assert_unavailable_with_advice(api.post("/v1/drafts", json=DRAFT))
        _assert_unavailable_with_advice(api.post("/v1/drafts/stream", json=DRAFT))
        assert api.post("/v1/check", json={"text": "您好"}).status_code == 200


def test_the_index_removed_under_a_running_service(api: Api, small_kb: Settings) -> None:
    assert api.get("/v1/search", params={"q": "大额存单"}).json()["hits"]
    shutil.rmtree(api.settings.index_dir)
    for _ in range(2):
        # Still-open index files may keep answering until a restart; anything else is a 503 with advice.
        resp = api.get("/v1/search", params={"q": "大额存单"})
        if resp.status_code != 200:
            _assert_unavailable_with_advice(resp)
        resp = api.post("/v1/drafts", json=DRAFT)
        if resp.status_code != 200:
            _assert_unavailable_with_advice(resp)
    assert api.post("/v1/check", json={"text": "您好"}).status_code == 200

    resp = api.post("/v1/knowledge/reindex", as_user="comp1")
    assert resp.status_code == 200, resp.text
    assert resp.json()["chunks"] > 0
    assert api.get("/v1/search", params={"q": "大额存单"}).json()["hits"]
    # the rebuilt index is on disk, not only in the running process: a restart finds it
    assert any(api.settings.index_dir.rglob("*.sqlite3"))
    env = {**os.environ, "COPILOT_DATA_DIR": str(small_kb.data_dir), "COPILOT_CONTENT_ROOT": str(small_kb.content_root)}
    done = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "search", "大额存单", "--json"],
        cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout), done.stdout[:500]
