"""``AuditStore`` (copilot/store/audit.py) on SQLite and on PostgreSQL: what a record stores, what
it refuses, and concurrent writers (threads and processes) that must not fork the chain."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from store_support import *  # noqa: F403
from store_support import EXTERNAL_ID, ID_NUMBER, PHONE, all_text, draft_payload

from copilot.config import CHECKOUT, Settings
from copilot.domain import Finding, Verdict
from copilot.store import AuditError, AuditNotFound, AuditStore


def test_record_stores_masked_pseudonymous_row(store: AuditStore) -> None:
    audit_id = store.record("draft", "zhangsan", draft_payload())
    rec = store.get(audit_id)
    assert (rec.kind, rec.actor, rec.segment, rec.verdict) == ("draft", "zhangsan", "pension", "pass")
    assert rec.seq == 1 and rec.created_at.tzinfo is not None
    assert rec.customer_ref == store.customer_ref(EXTERNAL_ID)
    assert rec.customer_ref.startswith("c_") and EXTERNAL_ID not in rec.customer_ref
    assert rec.payload["citations"][0]["version"] == "2025.2"
    assert rec.payload["citations"][0]["effective_date"] == "2025-01-01"
    assert "稳当的理财" in rec.payload["message"]
    raw = all_text(store)
    for secret in (PHONE, ID_NUMBER, EXTERNAL_ID):
        assert secret not in raw


def test_pydantic_verdicts_and_findings_are_stored(store: AuditStore) -> None:
    finding = Finding(rule="promise.principal", category="promise", severity="block", start=0, end=2,
                      text="保本", message="不得承诺保本")
    audit_id = store.record("check", "zhangsan", {"text": "保本理财", "verdict": Verdict(verdict="block",
                                                                                      findings=[finding])})
    rec = store.get(audit_id)
    assert rec.verdict == "block"
    assert rec.payload["verdict"]["findings"][0]["rule"] == "promise.principal"


@pytest.mark.parametrize(
    ("kind", "actor", "payload", "message"),
    [
        ("tweet", "zhangsan", {}, "记录类型"),
        ("draft", "  ", {}, "操作人"),
        ("draft", "zhangsan", {"verdict": "maybe"}, "合规结论"),
    ],
)
def test_bad_records_are_refused(
    store: AuditStore, kind: str, actor: str, payload: dict, message: str
) -> None:
    with pytest.raises(AuditError, match=message):
        store.record(kind, actor, payload)
    assert store.query()[1] == 0
    assert store.verify().ok


def test_get_unknown(store: AuditStore) -> None:
    with pytest.raises(AuditNotFound):
        store.get("0" * 32)


def test_concurrent_threads_do_not_fork_the_chain(store: AuditStore) -> None:
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(12):
                store.record("check", f"rm{i}", {"text": f"{i}-{j}", "verdict": "pass"})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = store.verify()
    assert result.ok and result.rows == 48 and result.head_seq == 48


WRITER = """
import sys
from copilot.config import Settings
from copilot.store import AuditStore
st = AuditStore(sys.argv[1], settings=Settings(data_dir=sys.argv[2]))
for j in range(15):
    st.record("check", "proc" + sys.argv[3], {"text": str(j), "verdict": "pass"})
"""


def test_concurrent_processes_do_not_fork_the_chain(
    store: AuditStore, db_url: str, settings: Settings
) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(settings.data_dir), str(i)], cwd=CHECKOUT)
        for i in range(3)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    result = store.verify()
    assert result.ok and result.rows == 45
