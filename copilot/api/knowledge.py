"""Knowledge base over HTTP: list the documents, upload one (compliance or admin), reindex.

Uploads land in ``uploads/`` under the data directory (everything the copilot writes lives there;
the content root may be a read-only deployment of the content repo), are listed and indexed with
``knowledge/``, and survive a reindex. A file is validated (front matter, encoding, text content)
before it replaces anything, and ingestion takes a place in the model queue: embedding and
generation must not fight over the same two cores. Product sheets belong in ``knowledge/products/``
(the product catalogue the drafting facts come from reads only the content root).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import shutil
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import ComplianceUser, CurrentUser, Page, PageDep, ServicesDep
from copilot.api.errors import ApiError
from copilot.config import Settings
from copilot.domain import DocType, Segment
from copilot.knowledge import SUPPORTED_SUFFIXES, KnowledgeError, iter_knowledge_files, read_document

router = APIRouter(tags=["知识库"])
upload_router = APIRouter(tags=["知识库"])  # included with settings.max_upload_bytes as its body limit
log = logging.getLogger("copilot.api")

UPLOAD_DIR = "uploads"
_SAFE_NAME = re.compile(r"^[\w\u4e00-\u9fff（）()\[\]【】 .+\-]{1,120}$")


class DocInfo(BaseModel):
    doc_id: str
    title: str
    type: str
    segments: list[str]
    product_code: str = ""
    risk_level: str = ""
    version: str = ""
    effective_date: str = ""
    expiry_date: str = ""
    expired: bool = False
    approval_no: str = ""
    sample: bool = False
    source_path: str


class DocError(BaseModel):
    source_path: str
    message: str


class DocPage(Page[DocInfo]):
    errors: list[DocError] = Field(default_factory=list)


class IngestOut(BaseModel):
    added: int
    updated: int
    removed: int
    unchanged: int
    failed: list[DocError]
    chunks: int
    seconds: float
    summary: str


class UploadOut(BaseModel):
    document: DocInfo
    ingest: IngestOut


# --- listing (cached by file stamp: reading ~100 front matters per request is wasteful) -------

_cache: dict[tuple[Path, Path, Path], tuple[tuple[int, int], DocInfo | DocError]] = {}
_cache_lock = threading.Lock()


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / UPLOAD_DIR


def _relative(path: Path, settings: Settings) -> str:
    """``knowledge/…`` for content files, ``uploads/…`` for uploads: no server paths to clients."""
    for base in (settings.content_root, settings.data_dir):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def knowledge_roots(settings: Settings) -> list[Path]:
    """The folders that make up this knowledge base: the content's knowledge/ and the uploads."""
    return [p for p in (settings.knowledge_dir, upload_dir(settings)) if p.is_dir()]


def _doc_info(path: Path, settings: Settings) -> DocInfo | DocError:
    try:
        doc = read_document(path)
    except KnowledgeError as exc:
        return DocError(source_path=_relative(path, settings), message=str(exc))
    m = doc.meta
    return DocInfo(
        doc_id=m.id,
        title=m.title,
        type=m.type.value,
        segments=m.segments,
        product_code=m.product_code,
        risk_level=m.risk_level,
        version=m.version,
        effective_date=m.effective_date.isoformat() if m.effective_date else "",
        expiry_date=m.expiry_date.isoformat() if m.expiry_date else "",
        expired=doc.is_expired(),
        approval_no=m.approval_no,
        sample=m.sample,
        source_path=_relative(path, settings),
    )


def list_documents(settings: Settings) -> tuple[list[DocInfo], list[DocError]]:
    roots = knowledge_roots(settings)
    if not roots:
        return [], []
    docs: list[DocInfo] = []
    errors: list[DocError] = []
    for path in iter_knowledge_files(roots):
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        key = (settings.content_root, settings.data_dir, path)
        with _cache_lock:
            hit = _cache.get(key)
        if hit is None or hit[0] != stamp:
            hit = (stamp, _doc_info(path, settings))
            with _cache_lock:
                _cache[key] = hit
        (docs if isinstance(hit[1], DocInfo) else errors).append(hit[1])  # type: ignore[arg-type]
    return docs, errors


@router.get("/knowledge", response_model=DocPage, summary="知识库文档列表（分页）")
async def knowledge_list(
    user: CurrentUser,
    svc: ServicesDep,
    page: PageDep,
    type: Annotated[DocType | None, Query(description="文档类型")] = None,
    segment: Annotated[Segment | None, Query(description="客群")] = None,
    q: Annotated[str | None, Query(max_length=100, description="标题、编号或产品代码包含")] = None,
    include_expired: Annotated[bool, Query(description="包含已过期文档")] = True,
) -> DocPage:
    docs, errors = await run_in_threadpool(list_documents, svc.settings)
    needle = (q or "").strip().lower()
    selected = [
        d
        for d in docs
        if (type is None or d.type == type.value)
        and (segment is None or segment.value in d.segments)
        and (include_expired or not d.expired)
        and (not needle or needle in f"{d.title} {d.doc_id} {d.product_code}".lower())
    ]
    selected.sort(key=lambda d: (d.type, d.doc_id))
    items = selected[page.offset : page.offset + page.limit]
    # Unreadable files concern the people who manage knowledge, not every RM.
    visible_errors = errors if user.can_manage_knowledge() else []
    return DocPage(
        items=items, total=len(selected), limit=page.limit, offset=page.offset, errors=visible_errors
    )


# --- ingestion -----------------------------------------------------------------------------------


def _ingest_out(report: Any, settings: Settings) -> IngestOut:
    return IngestOut(
        added=report.added,
        updated=report.updated,
        removed=report.removed,
        unchanged=report.unchanged,
        failed=[DocError(source_path=_relative(Path(p), settings), message=m) for p, m in report.failed],
        chunks=report.chunks,
        seconds=round(report.seconds, 3),
        summary=report.summary(),
    )


async def _run_ingest(svc: ServicesDep, user: str, paths: list[Path] | None) -> Any:
    from copilot.retrieval import ingest

    async with svc.gate.slot(user):
        return await run_in_threadpool(ingest, paths, svc.settings, False)


@router.post("/knowledge/reindex", response_model=IngestOut, summary="重建索引（增量；合规或管理员）")
async def knowledge_reindex(user: ComplianceUser, svc: ServicesDep) -> IngestOut:
    report = await _run_ingest(svc, user.userid, knowledge_roots(svc.settings) or None)
    log.info("reindex by %s: %s", user.userid, report.summary())
    return _ingest_out(report, svc.settings)


def _safe_filename(raw: str | None) -> str:
    name = Path((raw or "").replace("\\", "/")).name.strip()
    suffix = Path(name).suffix.lower()
    if not name or name.startswith((".", "_")) or not _SAFE_NAME.match(name):
        raise ApiError(
            422,
            "invalid_filename",
            "文件名无效：请使用中英文、数字、空格或 ._-() 组成的文件名。",
            {"filename": raw},
        )
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(
            422,
            "unsupported_type",
            f"不支持的文件类型 {suffix or '（无扩展名）'}，可上传：{'、'.join(sorted(SUPPORTED_SUFFIXES))}。",
            {"filename": raw},
        )
    return name


def _store_upload(settings: Settings, name: str, data: bytes, overwrite: bool) -> tuple[Path, DocInfo]:
    """Validate the upload as a knowledge document, then move it into place atomically."""
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists() and not overwrite and target.read_bytes() != data:
        raise ApiError(
            422,
            "file_exists",
            f"已存在同名文件 {name}。如需替换，请勾选“覆盖”后重新上传。",
            {"source_path": _relative(target, settings)},
        )
    # A hidden temp folder: ingestion and listing skip dot-folders, so a half-written upload is
    # invisible; the file keeps its own name because documents without front matter take their
    # id and title from it.
    tmp_dir = folder / f".upload-{secrets.token_hex(6)}"
    tmp_dir.mkdir()
    tmp = tmp_dir / name
    try:
        tmp.write_bytes(data)  # inside the try: a full disk must not leave the temp folder behind
        try:
            doc = read_document(tmp, data)
        except KnowledgeError as exc:
            raise ApiError(
                422,
                "invalid_document",
                f"文件无法作为知识文档读取：{str(exc).split(': ', 1)[-1]}",
                {"field": exc.field, "filename": name},
            ) from exc
        docs, _ = list_documents(settings)
        clash = next(
            (d for d in docs if d.doc_id == doc.meta.id and d.source_path != _relative(target, settings)),
            None,
        )
        if clash is not None:
            raise ApiError(
                422,
                "duplicate_id",
                f"文档 ID {doc.meta.id} 已被 {clash.source_path} 使用，请修改 front matter 中的 id。",
                {"doc_id": doc.meta.id, "existing": clash.source_path},
            )
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    info = _doc_info(target, settings)
    assert isinstance(info, DocInfo)
    return target, info


@upload_router.post(
    "/knowledge", response_model=UploadOut, status_code=201, summary="上传知识文档并索引（合规或管理员）"
)
async def knowledge_upload(
    user: ComplianceUser,
    svc: ServicesDep,
    file: Annotated[UploadFile, File(description="Markdown（含 YAML front matter）、TXT、PDF 或 DOCX")],
    overwrite: Annotated[bool, Form(description="替换同名文件")] = False,
) -> UploadOut:
    settings = svc.settings
    name = _safe_filename(file.filename)
    data = await file.read()
    if len(data) > settings.max_file_bytes:
        raise ApiError(
            413,
            "too_large",
            f"文件过大（上限 {settings.max_file_bytes // (1024 * 1024)} MB）。",
            {"limit_bytes": settings.max_file_bytes, "size": len(data)},
        )
    if not data.strip():
        raise ApiError(422, "invalid_document", "文件为空。", {"filename": name})
    target, info = await run_in_threadpool(_store_upload, settings, name, data, overwrite)
    report = await _run_ingest(svc, user.userid, [target])
    log.info(
        "upload %s by %s at %s: %s",
        info.source_path,
        user.userid,
        dt.datetime.now(dt.UTC).isoformat(),
        report.summary(),
    )
    return UploadOut(document=info, ingest=_ingest_out(report, settings))
