"""PostgreSQL stopped while requests arrive (a private instance, stopped with ``pg_ctl -m
immediate``: its processes quit at once, like a crash). Requests fail with a clear 503 and
Retry-After, never a 500; no audit row is half-written; after a restart the service recovers by
itself and the chain verifies, holding every row whose request succeeded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import error_of
from ops_support import PrivatePostgres, Served, private_postgres, serve_app

from copilot.config import Settings
from copilot.store import AuditStore

pytestmark = pytest.mark.postgres

WORKERS = 4
TEXTS = ["您好，周末网点正常营业。", "这款理财保本保息，稳赚不赔", "阿姨，大额存单20万起存。"]


@pytest.fixture
def pg() -> Iterator[PrivatePostgres]:
    with private_postgres() as instance:
        yield instance


@pytest.fixture
def served(kb_settings: Settings, tmp_path: Path, pg: PrivatePostgres) -> Iterator[Served]:
    settings = kb_settings.model_copy(update={"database_url": pg.url, "writer": "template"})
    with serve_app(settings) as app:
        yield app


def test_postgres_stopped_mid_load_is_503_then_recovers_with_an_intact_chain(
    served: Served, pg: PrivatePostgres
) -> None:
    ok_ids: list[str] = []
    refused: list[httpx.Response] = []
    other: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def rm(n: int) -> None:
        user = "rm1" if n % 2 else "rm2"
        with served.client(user, timeout=30) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    resp = client.post("/v1/check", json={"text": TEXTS[i % len(TEXTS)]})
                except httpx.HTTPError as exc:  # the service itself must keep answering
                    with lock:
                        other.append(f"transport: {exc!r}")
                    continue
                with lock:
                    if resp.status_code == 200:
                        ok_ids.append(resp.json()["audit_id"])
                    elif resp.status_code == 503:
                        refused.append(resp)
                    else:
                        other.append(f"{resp.status_code}: {resp.text[:300]}")
                if resp.status_code == 503:
                    time.sleep(0.05)

    def wait_until(cond, seconds: float) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + seconds
        while not cond() and time.monotonic() < deadline:
            time.sleep(0.1)

    with served.client("rm1") as client:  # warm: rule packs loaded, pool connected
        assert client.post("/v1/check", json={"text": TEXTS[0]}).status_code == 200
    warm_rows = 1
    threads = [threading.Thread(target=rm, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(ok_ids) >= 10, 60)
        before_stop = len(ok_ids)
        pg.stop("immediate")  # mid-load
        wait_until(lambda: len(refused) >= 10, 30)
        during = len(refused)
        pg.start()
        wait_until(lambda: len(ok_ids) >= before_stop + 10, 60)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert not other, other[:5]
    assert before_stop > 0, "no request succeeded before the fault"
    assert during > 0, "no request arrived while PostgreSQL was down"
    assert len(ok_ids) > before_stop, "the service did not recover after the restart"
    for resp in refused[:50]:
        err = error_of(resp)
        assert err["code"] == "storage_unavailable", err
        assert "审计数据库" in err["message"] and resp.headers["retry-after"].isdigit()

    # Nothing lost, nothing half-written: every success is in the chain; a row can exist without a
    # success only when the commit landed and the server died before acknowledging it.
    store = AuditStore(pg.url, settings=served.services.settings)
    result = store.verify()
    assert result.ok, result
    rows, total = store.query(kind="check", limit=1000)
    assert total == result.rows
    stored = {r.audit_id for r in rows}
    assert set(ok_ids) <= stored and len(set(ok_ids)) == len(ok_ids)
    assert len(ok_ids) + warm_rows <= total <= len(ok_ids) + warm_rows + WORKERS
    for r in rows:  # every row complete: the verdict and the payload it was hashed with
        assert r.verdict in ("pass", "revise", "block") and r.payload["text"] in TEXTS


def test_a_request_while_postgres_is_down_is_503_not_500(served: Served, pg: PrivatePostgres) -> None:
    pg.stop("immediate")
    with served.client("rm1") as client:
        for path, kw in (("/v1/me", {}), ("/v1/audit", {})):
            resp = client.get(path, **kw)
            assert resp.status_code == 503, (path, resp.text)
            assert error_of(resp)["code"] == "storage_unavailable"
        resp = client.post("/v1/check", json={"text": "您好"})
        assert resp.status_code == 503 and "未留痕" in error_of(resp)["message"]
    pg.start()
    with served.client("rm1") as client:
        assert client.get("/v1/me").status_code == 200
        assert client.post("/v1/check", json={"text": "您好"}).status_code == 200
