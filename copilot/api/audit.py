"""The audit trail over HTTP: query, one record, export, chain verification, and what the RM did
with a draft (sent / edited / discarded).

Isolation: an RM sees only rows whose actor is their own userid (another RM's row is 403);
compliance and admin see all. A text is checked again before it may be recorded as sent, and a
``block`` verdict is never recorded as sent.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from copilot.api.check import MAX_TEXT_CHARS, checked, is_sendable
from copilot.api.deps import ComplianceUser, CurrentUser, Page, PageDep, ServicesDep
from copilot.api.errors import ApiError
from copilot.auth import User
from copilot.domain import CheckContext, Verdict
from copilot.store import RECORD_KINDS, ActionRefused, AuditError, AuditNotFound, AuditRecord, VerifyResult

router = APIRouter(prefix="/audit", tags=["审计留痕"])


def _actor_scope(user: User, actor: str | None) -> str | None:
    """The actor filter a query really runs with: an RM is always limited to themself."""
    if user.can_read_all():
        return actor
    if actor not in (None, user.userid):
        raise ApiError(403, "forbidden", "客户经理只能查看本人的记录。", {"actor": actor})
    return user.userid


def _audit_error(exc: AuditError) -> ApiError:
    if isinstance(exc, AuditNotFound):
        return ApiError(404, "not_found", "审计记录不存在。")
    return ApiError(422, "invalid_input", str(exc))


Kind = Literal["draft", "check", "schedule", "action", "review"]
assert set(Kind.__args__) == set(RECORD_KINDS)  # type: ignore[attr-defined]


@router.get("", response_model=Page[AuditRecord], summary="查询审计记录（分页，新的在前）")
async def audit_query(
    user: CurrentUser,
    svc: ServicesDep,
    page: PageDep,
    kind: Annotated[Kind | None, Query(description="记录类型")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="操作人（合规/管理员可用）")] = None,
    verdict: Annotated[Literal["pass", "revise", "block"] | None, Query(description="合规结论")] = None,
    since: Annotated[dt.datetime | None, Query(description="起始时间（含），ISO 8601")] = None,
    until: Annotated[dt.datetime | None, Query(description="结束时间（不含），ISO 8601")] = None,
) -> Page[AuditRecord]:
    scope = _actor_scope(user, actor)
    try:
        rows, total = await run_in_threadpool(
            svc.audit.query,
            actor=scope,
            kind=kind,
            since=since,
            limit=page.limit,
            offset=page.offset,
            until=until,
            verdict=verdict,
        )
    except AuditError as exc:
        raise _audit_error(exc) from exc
    return Page[AuditRecord](items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/verify", response_model=VerifyResult, summary="校验哈希链（合规或管理员）")
async def audit_verify(user: ComplianceUser, svc: ServicesDep) -> VerifyResult:
    return await run_in_threadpool(svc.audit.verify)


@router.get(
    "/export",
    summary="导出审计记录（CSV 或 JSONL，按链顺序，含哈希）",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def audit_export(
    user: CurrentUser,
    svc: ServicesDep,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv 或 jsonl")] = "jsonl",
    kind: Annotated[Kind | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.datetime | None, Query()] = None,
    until: Annotated[dt.datetime | None, Query()] = None,
) -> StreamingResponse:
    filters = {"actor": _actor_scope(user, actor), "kind": kind, "since": since, "until": until}
    # Spool to a temp file (memory up to 8 MB, then disk) so a large trail never sits in RAM whole.
    # Closed by the response's iterator when it is done, hence no ``with``.
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8", newline=""
    )
    try:
        await run_in_threadpool(svc.audit.export, format, spool, **filters)
    except AuditError as exc:
        spool.close()
        raise _audit_error(exc) from exc
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while block := spool.read(64 * 1024):
                yield block.encode("utf-8")
        finally:
            spool.close()

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson; charset=utf-8"
    return StreamingResponse(
        chunks(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"'},
    )


async def _readable_record(svc: ServicesDep, user: User, audit_id: str) -> AuditRecord:
    try:
        rec = await run_in_threadpool(svc.audit.get, audit_id)
    except AuditError as exc:
        raise _audit_error(exc) from exc
    if not user.can_read_all() and rec.actor != user.userid:
        raise ApiError(403, "forbidden", "这是其他客户经理的记录，您无权查看。")
    return rec


@router.get("/{audit_id}", response_model=AuditRecord, summary="单条审计记录（含其后的操作记录）")
async def audit_get(audit_id: str, user: CurrentUser, svc: ServicesDep) -> AuditRecord:
    return await _readable_record(svc, user, audit_id)


class ActionIn(BaseModel):
    action: Literal["sent", "edited", "discarded"] = Field(
        description="sent：按草稿原文发送；edited：修改后发送（会重新检查）；discarded：放弃"
    )
    final_text: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="实际发送的文本")


class ActionOut(BaseModel):
    audit_id: str  # the action's own record
    ref_audit_id: str  # the draft it belongs to
    action: str
    final_text: str | None
    verdict: Verdict | None
    sendable: bool


@router.post("/{audit_id}/action", response_model=ActionOut, summary="记录客户经理对草稿的处理")
async def audit_action(audit_id: str, body: ActionIn, user: CurrentUser, svc: ServicesDep) -> ActionOut:
    rec = await _readable_record(svc, user, audit_id)
    if rec.actor != user.userid:
        raise ApiError(403, "forbidden", "只能对本人的草稿记录操作。")
    if rec.kind != "draft":
        raise ApiError(422, "invalid_input", "只能对草稿记录发送或放弃操作。", {"kind": rec.kind})

    verdict: Verdict | None = None
    text = body.final_text
    if body.action != "discarded":
        if body.action == "sent":
            if rec.verdict == "block" or not rec.payload.get("sendable", False):
                raise ApiError(
                    422,
                    "blocked",
                    "该草稿未通过合规检查（拦截），不能发送。请修改后重新检查。",
                    {"verdict": rec.verdict},
                )
            text = text if text is not None else rec.payload.get("draft", "")
        if not text or not text.strip():
            raise ApiError(422, "invalid_input", "请提供实际发送的文本（final_text）。")
        ctx = CheckContext.model_validate(rec.payload.get("context") or {})
        # Checked again right before it goes out: the text, the rules or the product data may have
        # changed since the draft was written.
        verdict = await run_in_threadpool(checked, text, ctx, svc.settings)
        detail = {"verdict": verdict.model_dump(mode="json")}
        if verdict.verdict == "block":
            raise ApiError(422, "blocked", "修改后的文本未通过合规检查（拦截），不能发送。", detail)
        if body.action == "edited" and not is_sendable(verdict):
            raise ApiError(
                422, "needs_revision", "修改后的文本需要调整后才能发送，请采用建议修改后的文本。", detail
            )
    try:
        action_id = await run_in_threadpool(
            svc.audit.record_action, audit_id, user.userid, body.action, text, verdict
        )
    except ActionRefused as exc:
        raise ApiError(422, "refused", str(exc)) from exc
    except AuditError as exc:
        raise _audit_error(exc) from exc
    return ActionOut(
        audit_id=action_id,
        ref_audit_id=audit_id,
        action=body.action,
        final_text=text,
        verdict=verdict,
        sendable=verdict is not None and verdict.verdict != "block",
    )
