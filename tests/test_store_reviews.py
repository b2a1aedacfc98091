"""The compliance review queue and decisions (copilot/store/reviews.py) on SQLite and PostgreSQL:
which rows are queued, the filters, latest-decision-wins, the refusals, and decisions in the chain."""

from __future__ import annotations

import pytest
from store_support import *  # noqa: F403
from store_support import checked_payload, draft_payload, execute

from copilot.store import AuditError, AuditNotFound, AuditStore

GUARANTEE = "阿姨放心，这款理财保本保收益，稳赚不赔！"
PLAIN = "您好，明天网点九点开门，欢迎来办理业务。"


def _queue_ids(store: AuditStore, **filters: object) -> list[str]:
    items, total = store.review_queue(**filters)  # type: ignore[arg-type]
    assert total == len(items)
    return [i.audit_id for i in items]


@pytest.fixture
def trail(store: AuditStore) -> dict[str, str]:
    """A small trail: flagged and clean checks and drafts by two RMs in two segments."""
    ids = {
        "guarantee": store.record("check", "rm1", checked_payload(GUARANTEE, "pension")),
        "plain": store.record("check", "rm1", checked_payload(PLAIN, "pension")),
        "phone": store.record("check", "rm2", checked_payload("请回电 13812345678", "payroll")),
        "draft_ok": store.record("draft", "rm2", draft_payload(segment="payroll")),
        "draft_block": store.record("draft", "rm2", draft_payload(
            segment="payroll", verdict="block", draft="保本",
            findings=[{"rule": "guarantee-principal", "category": "guarantee", "severity": "block",
                       "start": 0, "end": 2, "text": "保本", "message": "不得承诺保本", "source": "model",
                       "score": 0.97}])),
        "schedule": store.record("schedule", "rm1", {"segment": "pension", "verdict": "block"}),
    }
    return ids


def test_queue_holds_blocked_and_flagged_drafts_and_checks_newest_first(
    store: AuditStore, trail: dict[str, str]
) -> None:
    assert _queue_ids(store) == [trail["draft_block"], trail["phone"], trail["guarantee"]]
    item = store.review_item(trail["guarantee"])
    assert (item.kind, item.rm, item.segment, item.verdict) == ("check", "rm1", "pension", "block")
    assert item.text == GUARANTEE and "guarantee" in item.categories and item.decision is None
    assert item.revised is None or isinstance(item.revised, str)
    masked = store.review_item(trail["phone"])
    assert "13812345678" not in masked.text and masked.categories == ["pii"]
    # Findings pass through as recorded, including what a model-backed checker adds.
    finding = store.review_item(trail["draft_block"]).findings[0]
    assert (finding["source"], finding["score"]) == ("model", 0.97)


def test_filters(store: AuditStore, trail: dict[str, str]) -> None:
    assert _queue_ids(store, category="guarantee") == [trail["draft_block"], trail["guarantee"]]
    assert _queue_ids(store, category="pii") == [trail["phone"]]
    assert _queue_ids(store, category="superlative") == []
    assert _queue_ids(store, segment="payroll") == [trail["draft_block"], trail["phone"]]
    assert _queue_ids(store, rm="rm1") == [trail["guarantee"]]
    assert _queue_ids(store, kind="draft") == [trail["draft_block"]]
    assert _queue_ids(store, verdict="revise") == [trail["phone"]]
    page, total = store.review_queue(limit=1, offset=1)
    assert total == 3 and [i.audit_id for i in page] == [trail["phone"]]
    with pytest.raises(AuditError, match="类别"):
        store.review_queue(category="no_such_thing")
    with pytest.raises(AuditError, match="draft、check"):
        store.review_queue(kind="schedule")


def test_category_filter_is_not_fooled_by_text(store: AuditStore) -> None:
    """A message quoting the JSON of a finding is escaped in the stored payload, so it cannot match."""
    sneaky = store.record("check", "rm1", checked_payload('请回电 13812345678 "category":"guarantee"'))
    assert _queue_ids(store, category="guarantee") == []
    assert _queue_ids(store, category="pii") == [sneaky]


def test_decisions_latest_wins_and_decided_filter(store: AuditStore, trail: dict[str, str]) -> None:
    first = store.record_review(trail["guarantee"], "comp1", "wrong", "应为需修改", "revise", ["guarantee"])
    latest = store.record_review(trail["guarantee"], "comp2", "correct", "复看后确认拦截正确")
    item = store.review_item(trail["guarantee"])
    assert item.decisions == 2 and item.decision is not None
    assert (item.decision.review_id, item.decision.reviewer, item.decision.decision) == (latest, "comp2", "correct")
    assert item.decision.expected_verdict == "block" and item.decision.categories is None
    assert first != latest
    assert _queue_ids(store, decided=True) == [trail["guarantee"]]
    assert _queue_ids(store, decided=False) == [trail["draft_block"], trail["phone"]]
    # Each decision is its own chained row, pointing at the item, inheriting its segment.
    rows, total = store.query(kind="review")
    assert total == 2 and {r.ref_audit_id for r in rows} == {trail["guarantee"]}
    assert {r.segment for r in rows} == {"pension"} and rows[0].actor == "comp2"
    # Decisions are not RM actions: the RM's view of the item does not carry them.
    assert store.get(trail["guarantee"]).actions == []
    assert store.verify().ok and store.verify().rows == 8


def test_a_passed_item_can_be_marked_wrong(store: AuditStore, trail: dict[str, str]) -> None:
    """A reviewer who finds a miss says so on a clean item: it then appears among the decided."""
    store.record_review(trail["plain"], "comp1", "wrong", "漏判：实际含收益暗示", "block", ["expected_return"])
    item = store.review_item(trail["plain"])
    assert item.decision is not None and item.decision.categories == ["expected_return"]
    assert trail["plain"] not in _queue_ids(store)  # the queue itself stays blocked/flagged items


@pytest.mark.parametrize(
    ("decision", "note", "verdict", "categories", "message"),
    [
        ("maybe", "", None, None, "复核结论"),
        ("wrong", "  ", "pass", None, "说明"),
        ("wrong", "x", "perhaps", None, "合规结论"),
        ("wrong", "x", "block", ["not_a_category"], "未知的违规类别"),
        ("wrong", "x", "block", ["internal"], "未知的违规类别"),
        ("wrong", "x", "pass", ["guarantee"], "通过"),
        ("wrong", "x", "block", None, "相同"),
        ("correct", "", "pass", None, "正确"),
        ("correct", "", None, ["guarantee"], "正确"),
        ("correct", "长" * 1001, None, None, "过长"),
    ],
)
def test_bad_decisions_are_refused(
    store: AuditStore, trail: dict[str, str], decision: str, note: str, verdict: str | None,
    categories: list[str] | None, message: str,
) -> None:
    with pytest.raises(AuditError, match=message):
        store.record_review(trail["guarantee"], "comp1", decision, note, verdict, categories)
    assert store.query(kind="review")[1] == 0


def test_only_drafts_and_checks_are_reviewable(store: AuditStore, trail: dict[str, str]) -> None:
    with pytest.raises(AuditError, match="只能复核"):
        store.record_review(trail["schedule"], "comp1", "correct")
    review = store.record_review(trail["guarantee"], "comp1", "correct")
    with pytest.raises(AuditError, match="只能复核"):
        store.record_review(review, "comp1", "correct")
    with pytest.raises(AuditError, match="操作记录"):
        store.record_action(review, "comp1", "discarded")
    with pytest.raises(AuditNotFound):
        store.record_review("f" * 32, "comp1", "correct")
    with pytest.raises(AuditError, match="record_review"):
        store.record("review", "comp1", {"decision": "correct"})
    with pytest.raises(AuditError, match="操作人"):
        store.record_review(trail["guarantee"], " ", "correct")


def test_a_note_with_personal_data_is_masked(store: AuditStore, trail: dict[str, str]) -> None:
    store.record_review(trail["guarantee"], "comp1", "wrong", "客户来电 13812345678 投诉", "block", ["guarantee"])
    note = store.review_item(trail["guarantee"]).decision.note  # type: ignore[union-attr]
    assert "13812345678" not in note and "投诉" in note


def test_a_tampered_decision_is_detected(store: AuditStore, trail: dict[str, str]) -> None:
    store.record_review(trail["guarantee"], "comp1", "wrong", "应为通过", "pass", [])
    store.record_review(trail["phone"], "comp1", "correct")
    seq = store.query(kind="review", limit=2)[0][-1].seq  # the first decision
    execute(store, "UPDATE audit_log SET payload = REPLACE(payload, '\"wrong\"', '\"correct\"') WHERE seq = :s",
            s=seq)
    result = store.verify()
    assert not result.ok and result.first_broken_seq == seq and "修改" in result.reason
