"""``POST /v1/schedules``: a segment's posting plan, every post checked, as JSON or a CSV/ICS/MD
download (``?format=``). The plan is recorded in the audit trail with the actor.

Post copy comes from the drafting writers, so planning with a model writer takes a place in the
model queue (template plans take none); the template writer is the default here because a plan
of weeks holds many posts and a local model writes one in seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import CurrentUser, ServicesDep
from copilot.api.errors import ApiError
from copilot.api.gate import model_place
from copilot.domain import Segment

router = APIRouter(tags=["发布排期"])

MAX_API_WEEKS = 8  # the CLI plans up to 26 weeks; a request waits for the whole plan
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


class CapIn(BaseModel):
    per_month: int | None = Field(None, ge=1, le=31, description="每月上限（缺省为当月天数）")
    per_week: int | None = Field(None, ge=1, le=217)
    per_day: int | None = Field(None, ge=1, le=31)


class ScheduleIn(BaseModel):
    segment: Segment
    # The holiday and solar-term calendars cover 1900–2100 only; a plan is for the coming weeks.
    start: dt.date = Field(
        description="开始日期 YYYY-MM-DD（2000–2099 年）", ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 1)
    )
    weeks: int = Field(2, ge=1, le=MAX_API_WEEKS)
    groups: list[dict[str, Any]] | None = Field(
        None,
        max_length=2000,
        description="目标客户群（缺省用日历中的示例群），字段同 copilot schedule --groups",
    )
    cap: CapIn | None = None
    writer: Literal["template", "local", "openai", "auto"] = "template"


def _plan(body: ScheduleIn, settings: Any) -> Any:
    from pydantic import ValidationError

    from copilot.scheduling import CalendarError, CapPolicy, Group, PlanError, plan

    try:
        groups = [Group.model_validate(g) for g in body.groups] if body.groups is not None else None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ApiError(422, "invalid_input", f"客户群数据有误（{where}）：{err['msg']}") from exc
    cap = CapPolicy(**(body.cap.model_dump() if body.cap else {}))
    try:
        return plan(
            body.segment,
            body.start,
            body.weeks,
            groups=groups,
            cap_policy=cap,
            writer=body.writer,
            settings=settings,
        )
    except (PlanError, CalendarError) as exc:
        raise ApiError(422, "invalid_input", str(exc)) from exc


def _audit_payload(body: ScheduleIn, p: Any) -> dict[str, Any]:
    verdicts = [s.verdict for s in p.slots]
    worst = "block" if "block" in verdicts else ("revise" if "revise" in verdicts else "pass")
    return {
        "segment": body.segment.value,
        "request": body.model_dump(mode="json", exclude={"groups"}),
        "groups": [g.id for g in p.groups],
        "verdict": worst,
        "writer": body.writer,
        "slots": [
            {
                "at": s.at.isoformat(),
                "channel": s.channel,
                "format": s.format,
                "theme": s.theme,
                "copy": s.copy_text,
                "verdict": s.verdict,
                "findings": s.findings,
                "sources": [c.model_dump(exclude={"text"}) for c in s.citations],
            }
            for s in p.slots
        ],
        "left_out": len(p.left_out),
    }


@router.post(
    "/schedules",
    summary="生成发布排期（JSON；format=csv / ics / md 时下载文件）",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}, "text/calendar": {}, "text/markdown": {}}}
    },
)
async def create_schedule(
    body: ScheduleIn,
    user: CurrentUser,
    svc: ServicesDep,
    format: Annotated[Literal["json", "csv", "ics", "md"], Query(description="返回格式")] = "json",
) -> Response:
    from copilot.drafting.writers import uses_model
    from copilot.scheduling import render

    async with model_place(svc.gate, user.userid, uses_model(body.writer, svc.settings)):
        p = await run_in_threadpool(_plan, body, svc.settings)
    audit_id = await run_in_threadpool(svc.audit.record, "schedule", user.userid, _audit_payload(body, p))
    if format == "json":
        data = p.model_dump(mode="json", by_alias=True)
        data["audit_id"] = audit_id
        return JSONResponse(data, headers={"X-Audit-Id": audit_id})
    name = f"schedule-{body.segment.value}-{body.start.isoformat()}.{format}"
    return Response(
        render(p, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Audit-Id": audit_id},
    )
