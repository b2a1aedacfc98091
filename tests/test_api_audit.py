"""The audit trail over HTTP: paginated queries, CSV/JSONL export, and chain verification that
notices a row changed behind the service's back."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from api_support import *  # noqa: F403
from api_support import Api, error_of

from copilot.store import verify_export_lines


def _checks(api: Api, n: int, user: str = "rm1") -> list[str]:
    return [
        api.post("/v1/check", as_user=user, json={"text": f"您好，第{i}条消息。"}).json()["audit_id"]
        for i in range(n)
    ]


def test_queries_are_paginated_newest_first(api: Api) -> None:
    ids = _checks(api, 5)
    page1 = api.get("/v1/audit", params={"limit": 2, "offset": 0}).json()
    page2 = api.get("/v1/audit", params={"limit": 2, "offset": 2}).json()
    page3 = api.get("/v1/audit", params={"limit": 2, "offset": 4}).json()
    assert page1["total"] == page2["total"] == 5 and (page1["limit"], page2["offset"]) == (2, 2)
    got = [r["audit_id"] for p in (page1, page2, page3) for r in p["items"]]
    assert got == list(reversed(ids))
    assert api.get("/v1/audit", params={"kind": "draft"}).json()["total"] == 0
    assert api.get("/v1/audit", params={"verdict": "pass"}).json()["total"] == 5
    assert api.get("/v1/audit", params={"since": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert api.get("/v1/audit", params={"kind": "nonsense"}).status_code == 422


def test_exports_are_complete_and_reverifiable(api: Api) -> None:
    _checks(api, 2, "rm1")
    _checks(api, 1, "rm2")
    jsonl = api.get("/v1/audit/export", as_user="comp1", params={"format": "jsonl"})
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert jsonl.headers["content-disposition"].startswith('attachment; filename="audit-')
    lines = jsonl.text.splitlines()
    assert [json.loads(x)["actor"] for x in lines] == ["rm1", "rm1", "rm2"]
    assert verify_export_lines(lines).ok  # hashes included: checkable away from the database

    out = api.get("/v1/audit/export", as_user="admin1", params={"format": "csv"})
    assert out.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(out.text)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[0]["row_hash"]
    assert api.get("/v1/audit/export", as_user="comp1", params={"format": "xml"}).status_code == 422


def test_verify_passes_untouched_and_fails_after_one_row_is_altered(api: Api) -> None:
    ids = _checks(api, 3)
    ok = api.get("/v1/audit/verify", as_user="comp1").json()
    assert ok["ok"] is True and ok["rows"] == 3

    engine = sa.create_engine(api.settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'rm2' WHERE audit_id = :id"), {"id": ids[1]})
    engine.dispose()
    broken = api.get("/v1/audit/verify", as_user="admin1").json()
    assert broken["ok"] is False and broken["first_broken_seq"] == 2 and broken["reason"]
    resp = api.get("/v1/audit/verify", as_user="rm1")
    assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden"
