"""The audit trail on SQLite and on PostgreSQL: what is stored, RM isolation, RM actions, the hash
chain under tampering (raw SQL), concurrent writers, export and the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from copilot.config import CHECKOUT, Settings
from copilot.domain import Finding, Verdict
from copilot.store import (
    ActionRefused,
    AuditError,
    AuditNotFound,
    AuditStore,
    verify_export_lines,
)

PHONE = "13812345678"
ID_NUMBER = "110101199003074514"
EXTERNAL_ID = "wmQHcustomer0001EXT"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(db_url: str, settings: Settings) -> AuditStore:
    return AuditStore(db_url, settings=settings)


def draft_payload(**extra: object) -> dict:
    payload = {
        "segment": "pension",
        "external_userid": EXTERNAL_ID,
        "message": f"我想买点稳当的理财，我电话 {PHONE}，身份证 {ID_NUMBER}",
        "citations": [
            {"n": 1, "doc_id": "product/QH-WM-R2-002", "chunk_id": "c-77", "title": "安享养老",
             "version": "2025.2", "effective_date": "2025-01-01"}
        ],
        "writer": "template",
        "model": "",
        "findings": [],
        "verdict": "pass",
        "draft": "您好，安享养老一年持有期是R2级理财[1]。理财非存款、产品有风险、投资须谨慎。",
    }
    payload.update(extra)
    return payload


def all_text(store: AuditStore) -> str:
    """Every value in the audit tables, as the database holds them."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log")).all()
    return json.dumps([[str(v) for v in r] for r in rows], ensure_ascii=False)


def execute(store: AuditStore, sql: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


# --- what is stored ----------------------------------------------------------------------------


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


def test_customer_ref_is_stable_per_install_and_differs_between_installs(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    a = AuditStore(db_url, settings=settings)
    b = AuditStore(db_url, settings=settings)
    other = AuditStore(db_url, settings=Settings(data_dir=tmp_path / "other"))
    assert a.customer_ref(EXTERNAL_ID) == b.customer_ref(EXTERNAL_ID)
    assert a.customer_ref(EXTERNAL_ID) != a.customer_ref(EXTERNAL_ID + "x")
    assert other.customer_ref(EXTERNAL_ID) != a.customer_ref(EXTERNAL_ID)
    key = settings.data_dir / "audit_secret.key"
    assert key.stat().st_mode & 0o777 == 0o600


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


# --- RM isolation primitives --------------------------------------------------------------------


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


# --- RM actions ---------------------------------------------------------------------------------


def test_sent_as_drafted(store: AuditStore) -> None:
    payload = draft_payload()
    audit_id = store.record("draft", "zhangsan", payload)
    action_id = store.record_action(audit_id, "zhangsan", "sent", payload["draft"], "pass")
    rec = store.get(audit_id)
    assert [a.audit_id for a in rec.actions] == [action_id]
    act = rec.actions[0]
    assert act.kind == "action" and act.ref_audit_id == audit_id and act.payload["action"] == "sent"
    assert act.customer_ref == rec.customer_ref and act.segment == "pension"


def test_sent_with_changed_text_must_be_recorded_as_edited(store: AuditStore) -> None:
    audit_id = store.record("draft", "zhangsan", draft_payload())
    with pytest.raises(ActionRefused, match="edited"):
        store.record_action(audit_id, "zhangsan", "sent", "我改过的文字", "pass")
    edited = "您好，这款产品是R2级理财，适合稳健的您。理财非存款、产品有风险、投资须谨慎。"
    store.record_action(audit_id, "zhangsan", "edited", edited, Verdict(verdict="pass"))
    assert store.get(audit_id).actions[-1].payload["final_text"] == edited


def test_block_verdict_can_never_be_sent(store: AuditStore) -> None:
    audit_id = store.record("draft", "zhangsan", draft_payload())
    with pytest.raises(ActionRefused, match="拦截"):
        store.record_action(audit_id, "zhangsan", "edited", "保本保收益", "block")
    with pytest.raises(ActionRefused, match="合规检查"):
        store.record_action(audit_id, "zhangsan", "edited", "改过的文字", None)
    blocked = store.record("draft", "zhangsan", draft_payload(verdict="block", draft="保本"))
    with pytest.raises(ActionRefused, match="拦截"):
        store.record_action(blocked, "zhangsan", "sent", "保本", "pass")
    store.record_action(blocked, "zhangsan", "discarded")
    assert [a.payload["action"] for a in store.get(blocked).actions] == ["discarded"]
    assert store.query(kind="action")[1] == 1


def test_actions_only_by_the_drafting_rm(store: AuditStore) -> None:
    audit_id = store.record("draft", "zhangsan", draft_payload())
    with pytest.raises(ActionRefused, match="本人"):
        store.record_action(audit_id, "lisi", "discarded")
    with pytest.raises(AuditError, match="操作"):
        store.record_action(audit_id, "zhangsan", "forwarded", "x", "pass")
    with pytest.raises(AuditNotFound):
        store.record_action("f" * 32, "zhangsan", "discarded")


# --- the chain under tampering ------------------------------------------------------------------


def fill(store: AuditStore, n: int = 6) -> list[str]:
    return [store.record("draft", f"rm{i % 2}", draft_payload(draft=f"第{i}条草稿")) for i in range(n)]


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


# --- concurrency ---------------------------------------------------------------------------------


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


# --- export -------------------------------------------------------------------------------------


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


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_verify_and_export(store: AuditStore, db_url: str, tmp_path: Path) -> None:
    from copilot.cli import app

    fill(store, 3)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "3 条" in ok.output
    out = tmp_path / "exports" / "audit.csv"
    res = runner.invoke(app, ["audit", "export", "--format", "csv", "--out", str(out), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 3
    bad = runner.invoke(app, ["audit", "export", "--format", "xml", "--out", str(out), "--db", db_url])
    assert bad.exit_code == 2
    execute(store, "UPDATE audit_log SET payload = REPLACE(payload, '第1条', '第5条') WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_broken_seq"] == 2
