"""What the RM did with a draft (copilot/store/actions.py): sent, edited, discarded, and refusals."""

from __future__ import annotations

import pytest
from store_support import *  # noqa: F403
from store_support import draft_payload

from copilot.domain import Verdict
from copilot.store import ActionRefused, AuditError, AuditNotFound, AuditStore


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
