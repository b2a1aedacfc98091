"""The compliance review queue over HTTP: flagged drafts and checks, and reviewers' decisions.

Only ``compliance`` and ``admin`` users (403 for an RM). A decision is appended to the audit chain
(``copilot audit verify`` covers it); the latest decision for an item is the one shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import ComplianceUser, Page, PageDep, ServicesDep
from copilot.api.errors import ApiError
from copilot.domain import Segment
from copilot.store import AuditError, AuditNotFound, ReviewItem
from copilot.store.reviews import MAX_NOTE_CHARS

router = APIRouter(prefix="/reviews", tags=["合规复核"])

VerdictKind = Literal["pass", "revise", "block"]


def _review_error(exc: AuditError) -> ApiError:
    if isinstance(exc, AuditNotFound):
        return ApiError(404, "not_found", "审计记录不存在。")
    return ApiError(422, "invalid_input", str(exc))


@router.get("", response_model=Page[ReviewItem], summary="复核队列：被拦截或有提示的草稿与检查（新的在前）")
async def review_list(
    user: ComplianceUser,
    svc: ServicesDep,
    page: PageDep,
    category: Annotated[str | None, Query(max_length=64, description="违规类别，如 guarantee")] = None,
    segment: Annotated[Segment | None, Query(description="客群")] = None,
    rm: Annotated[str | None, Query(max_length=128, description="客户经理 userid")] = None,
    kind: Annotated[Literal["draft", "check"] | None, Query(description="draft 或 check")] = None,
    verdict: Annotated[VerdictKind | None, Query(description="合规结论")] = None,
    decided: Annotated[bool | None, Query(description="true：已复核；false：待复核")] = None,
    since: Annotated[dt.datetime | None, Query(description="起始时间（含），ISO 8601")] = None,
    until: Annotated[dt.datetime | None, Query(description="结束时间（不含），ISO 8601")] = None,
) -> Page[ReviewItem]:
    try:
        items, total = await run_in_threadpool(
            lambda: svc.audit.review_queue(
                category=category, segment=str(segment) if segment else None, rm=rm, kind=kind,
                verdict=verdict, decided=decided, since=since, until=until,
                limit=page.limit, offset=page.offset,
            )
        )
    except AuditError as exc:
        raise _review_error(exc) from exc
    return Page[ReviewItem](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/categories", response_model=dict[str, str], summary="违规类别（编号 → 中文名）")
async def review_categories(user: ComplianceUser) -> dict[str, str]:
    from copilot.compliance import CATEGORIES

    return dict(CATEGORIES)


@router.get("/{audit_id}", response_model=ReviewItem, summary="一条待复核记录及其最新复核结论")
async def review_get(audit_id: str, user: ComplianceUser, svc: ServicesDep) -> ReviewItem:
    try:
        return await run_in_threadpool(svc.audit.review_item, audit_id)
    except AuditError as exc:
        raise _review_error(exc) from exc


class ReviewIn(BaseModel):
    decision: Literal["correct", "wrong"] = Field(description="correct：检查结论正确；wrong：结论有误")
    note: str = Field("", max_length=MAX_NOTE_CHARS, description="复核说明（结论有误时必填）")
    expected_verdict: VerdictKind | None = Field(None, description="结论有误时：正确的结论")
    categories: list[str] | None = Field(
        None, max_length=20, description="结论有误时：正确的违规类别（不填表示类别无误）"
    )


@router.post("/{audit_id}", response_model=ReviewItem, summary="记录复核结论（追加到审计链）")
async def review_decide(audit_id: str, body: ReviewIn, user: ComplianceUser, svc: ServicesDep) -> ReviewItem:
    def decide() -> ReviewItem:
        svc.audit.record_review(
            audit_id, user.userid, body.decision, body.note, body.expected_verdict, body.categories
        )
        return svc.audit.review_item(audit_id)

    try:
        return await run_in_threadpool(decide)
    except AuditError as exc:
        raise _review_error(exc) from exc
