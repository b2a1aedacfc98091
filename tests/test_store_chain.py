"""The hash chain (copilot/store/chain.py) under tampering with raw SQL, and offline re-verification
of a JSONL export."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from store_support import *  # noqa: F403
from store_support import execute, fill

from copilot.store import AuditStore, verify_export_lines


def test_untouched_chain_verifies(store: AuditStore) -> None:
    assert store.verify().ok and store.verify().rows == 0
    fill(store)
    result = store.verify()
    assert result.ok and result.rows == 6 and result.head_seq == 6
    assert result.head_hash == store.head()[1]


def test_altered_text_is_named(store: AuditStore) -> None:
    fill(store)
    execute(store, "UPDATE audit_log SET payload = REPLACE(payload, '第3条', '第9条') WHERE seq = 4")
    result = store.verify()
    assert not result.ok and result.first_broken_seq == 4 and "修改" in result.reason


@pytest.mark.parametrize("column", ["actor", "created_at", "verdict"])
def test_altered_column_is_named(store: AuditStore, column: str) -> None:
    fill(store)
    value = {"actor": "someone_else", "created_at": "2020-01-01T00:00:00.000000Z", "verdict": "block"}[column]
    execute(store, f"UPDATE audit_log SET {column} = :v WHERE seq = 2", v=value)
    assert store.verify().first_broken_seq == 2


def test_rehashed_row_breaks_the_next_link(store: AuditStore) -> None:
    """A forger who recomputes the altered row's own hash still breaks the next row's link."""
    from copilot.store import row_hash

    fill(store)
    with store.engine.begin() as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM audit_log WHERE seq = 3")).mappings().one())
        row["payload"] = row["payload"].replace("第2条", "第8条")
        conn.execute(sa.text("UPDATE audit_log SET payload = :p, row_hash = :h WHERE seq = 3"),
                     {"p": row["payload"], "h": row_hash(row["prev_hash"], row)})
    result = store.verify()
    assert result.first_broken_seq == 4 and "链接" in result.reason


def test_deleted_middle_row_is_named(store: AuditStore) -> None:
    fill(store)
    execute(store, "DELETE FROM audit_log WHERE seq = 3")
    result = store.verify()
    assert not result.ok and result.first_broken_seq == 3 and "缺失" in result.reason


def test_deleted_and_renumbered_rows_are_detected(store: AuditStore) -> None:
    fill(store)
    execute(store, "DELETE FROM audit_log WHERE seq = 3")
    execute(store, "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
    execute(store, "UPDATE audit_head SET seq = seq - 1")
    assert store.verify().first_broken_seq == 3


def test_deleted_last_row_is_detected(store: AuditStore) -> None:
    fill(store)
    execute(store, "DELETE FROM audit_log WHERE seq = 6")
    result = store.verify()
    assert not result.ok and result.first_broken_seq == 6 and "末尾" in result.reason


def test_reordered_rows_are_detected(store: AuditStore) -> None:
    fill(store)
    # Swap the contents of rows 2 and 3 (through a free sequence number, the primary key).
    execute(store, "UPDATE audit_log SET seq = 1000 WHERE seq = 2")
    execute(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    execute(store, "UPDATE audit_log SET seq = 3 WHERE seq = 1000")
    assert store.verify().first_broken_seq == 2


def test_tail_rewrite_caught_by_noted_head(store: AuditStore) -> None:
    fill(store)
    _, noted = store.head()
    store.record("check", "rm0", {"text": "later", "verdict": "pass"})
    assert store.verify(expected_head=noted).ok
    # A forger deletes the last two rows and moves the anchor back: internally consistent again…
    with store.engine.begin() as conn:
        prev = conn.execute(sa.text("SELECT row_hash FROM audit_log WHERE seq = 5")).scalar_one()
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq >= 6"))
        conn.execute(sa.text("UPDATE audit_head SET seq = 5, row_hash = :h"), {"h": prev})
    assert store.verify().ok
    # …but the head noted outside the database is gone.
    result = store.verify(expected_head=noted)
    assert not result.ok and "外部" in result.reason


def test_export_jsonl_reverifies_offline(store: AuditStore) -> None:
    ids = fill(store, 4)
    buf = io.StringIO()
    assert store.export("jsonl", buf) == 4
    lines = buf.getvalue().splitlines()
    assert [json.loads(x)["audit_id"] for x in lines] == ids
    assert verify_export_lines(lines).ok
    forged = lines[:]
    forged[1] = forged[1].replace("第1条", "第7条")
    result = verify_export_lines(forged)
    assert not result.ok and result.first_broken_seq == 2
