"""What an RM did with a draft (sent / edited / discarded): the rules an action row must pass."""

from __future__ import annotations

from typing import Any

from copilot.store.payloads import masked, verdict_of
from copilot.store.schema import ACTIONS, ActionRefused, AuditError, AuditRecord

# Rows nothing can be "done with": an action on an action, or on a compliance decision.
_NOT_ACTIONABLE = ("action", "review")


def check_action_name(action: str) -> None:
    if action not in ACTIONS:
        raise AuditError(f"无效的操作: {action!r}（应为 sent、edited 或 discarded）")


def action_payload(
    original: AuditRecord, actor: str, action: str, final_text: str | None, verdict: Any
) -> dict[str, Any]:
    """The payload of the action row for ``original``, or ActionRefused/AuditError saying why not.

    ``sent``: as drafted (the text must equal the draft after masking; never a ``block``);
    ``edited``: sent after editing, ``verdict`` is the re-check of the edited text (never block);
    ``discarded``: nothing was sent. Only the RM who drafted may act."""
    check_action_name(action)
    if original.kind in _NOT_ACTIONABLE:
        raise AuditError("不能对操作记录再记录操作，请使用原草稿的审计编号")
    if original.actor != actor:
        raise ActionRefused("只能对本人的草稿记录操作")
    drafted = original.payload.get("final_text") or original.payload.get("draft") or ""
    payload: dict[str, Any] = {"action": action}
    if action == "discarded":
        if final_text is not None:
            payload["final_text"] = final_text
        return payload
    if not final_text:
        raise AuditError("发送操作必须提供最终发送的文本")
    if verdict is None:
        raise ActionRefused("发送前必须提供对最终文本的合规检查结论")
    kind, full = verdict_of(verdict)
    if kind == "block":
        raise ActionRefused("该文本合规检查结论为“拦截”，不能发送")
    if action == "sent":
        if original.verdict == "block":
            raise ActionRefused("原草稿合规检查结论为“拦截”，不能按原稿发送")
        if masked(final_text) != drafted:
            raise ActionRefused("发送文本与草稿不一致：请按“编辑后发送”(edited) 记录，并先重新检查")
    payload["final_text"] = final_text
    payload["verdict"] = full if full is not None else kind
    return payload
