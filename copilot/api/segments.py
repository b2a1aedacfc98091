"""``GET /v1/segments``: the customer segments this deployment's content declares (prompts/segments.yaml)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from copilot.api.deps import CurrentUser, ServicesDep
from copilot.api.errors import ApiError
from copilot.segments import SegmentsFileError, load_segments

router = APIRouter(tags=["客群"])


class SegmentOut(BaseModel):
    id: str
    name: str
    description: str = ""


class SegmentsOut(BaseModel):
    segments: list[SegmentOut]


@router.get("/segments", response_model=SegmentsOut, summary="客群列表（来自 prompts/segments.yaml）")
def segments(user: CurrentUser, svc: ServicesDep) -> SegmentsOut:
    try:
        registry = load_segments(svc.settings)
    except SegmentsFileError as exc:  # a broken file is the deployment's problem, not the caller's
        raise ApiError(503, "content_error", f"客群目录文件有误：{exc}") from exc
    return SegmentsOut(
        segments=[SegmentOut(id=s.id, name=s.name, description=s.description) for s in registry.segments]
    )
