"""Reading the trail (copilot/store/queries.py): filtered pages, newest first, and CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from store_support import *  # noqa: F403
from store_support import EXTERNAL_ID, draft_payload, fill

from copilot.store import AuditError, AuditStore


def test_query_by_actor_kind_since_and_pages(store: AuditStore) -> None:
    for i in range(5):
        store.record("draft", "zhangsan", draft_payload(draft=f"草稿{i}"))
    for _ in range(3):
        store.record("check", "lisi", {"text": "您好", "verdict": "pass"})
    rows, total = store.query(actor="zhangsan")
    assert total == 5 and {r.actor for r in rows} == {"zhangsan"}
    assert [r.payload["draft"] for r in rows] == [f"草稿{i}" for i in (4, 3, 2, 1, 0)]  # newest first
    rows, total = store.query(actor="lisi", kind="draft")
    assert (rows, total) == ([], 0)
    page, total = store.query(limit=3, offset=3)
    assert total == 8 and [r.seq for r in page] == [5, 4, 3]
    cutoff = store.get(page[0].audit_id).created_at
    recent, total = store.query(since=cutoff)
    assert total == 4 and min(r.seq for r in recent) == 5
    by_customer, total = store.query(customer_ref=store.customer_ref(EXTERNAL_ID))
    assert total == 5 and all(r.actor == "zhangsan" for r in by_customer)
    with pytest.raises(AuditError):
        store.query(limit=0)
    with pytest.raises(AuditError, match="时间"):
        store.query(since="not a date")


def test_export_csv_round_trips(store: AuditStore) -> None:
    fill(store, 3)
    buf = io.StringIO()
    assert store.export("csv", buf, actor="rm0") == 2
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [r["actor"] for r in rows] == ["rm0", "rm0"]
    assert json.loads(rows[0]["payload"])["draft"] == "第0条草稿"
    assert {"seq", "prev_hash", "row_hash", "customer_ref"} <= set(rows[0])
    with pytest.raises(AuditError, match="格式"):
        store.export("xml", io.StringIO())  # type: ignore[arg-type]
