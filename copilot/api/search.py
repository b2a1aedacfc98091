"""``GET /v1/search`` (ranked passages with provenance) and ``GET /v1/passages/{chunk_id}`` (the
passage behind a citation chip)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import CurrentUser, Services, ServicesDep
from copilot.api.errors import ApiError
from copilot.domain import DocType, Hit, Segment

router = APIRouter(tags=["知识检索"])


class SearchOut(BaseModel):
    query: str
    hits: list[Hit]


def ready_retriever(svc: Services):  # type: ignore[no-untyped-def]
    """The retriever, or a 503 that tells the operator what to run."""
    retriever = svc.retriever()
    if len(retriever) == 0:
        raise ApiError(
            503,
            "index_empty",
            "知识库索引为空：请先运行 copilot ingest，或由管理员在“知识库”中重建索引。",
            None,
            headers={"Retry-After": "60"},
        )
    return retriever


@router.get("/search", response_model=SearchOut, summary="检索知识库（带出处的段落）")
async def search(
    user: CurrentUser,
    svc: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="问题或关键词")],
    segment: Annotated[Segment | None, Query(description="客群")] = None,
    type: Annotated[DocType | None, Query(description="文档类型")] = None,
    product: Annotated[str | None, Query(max_length=40, description="产品代码")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="返回条数")] = 5,
    include_expired: Annotated[bool, Query(description="包含已过期文档")] = False,
) -> SearchOut:
    if not q.strip():
        raise ApiError(422, "invalid_input", "查询内容不能为空。")
    retriever = await run_in_threadpool(ready_retriever, svc)
    try:
        hits = await run_in_threadpool(
            retriever.search,
            q,
            k=k,
            segment=segment.value if segment else None,
            doc_type=type.value if type else None,
            product_code=product or None,
            include_expired=include_expired,
        )
    except ValueError as exc:  # the retriever's own Chinese message (e.g. a query that normalises to nothing)
        raise ApiError(422, "invalid_input", str(exc)) from exc
    return SearchOut(query=q, hits=hits)


@router.get("/passages/{chunk_id}", response_model=Hit, summary="引用段落原文")
async def passage(chunk_id: str, user: CurrentUser, svc: ServicesDep) -> Hit:
    retriever = await run_in_threadpool(svc.retriever)
    hit = await run_in_threadpool(retriever.passage, chunk_id)
    if hit is None:
        raise ApiError(
            404, "not_found", "未找到该引用段落（知识库可能已更新），请重新检索。", {"chunk_id": chunk_id}
        )
    return hit
