"""Knowledge documents: the front-matter schema, file readers and the product catalogue.

Every file under ``knowledge/`` is Markdown with YAML front matter (schema: ``DocMeta``). Files
that arrive from elsewhere (PDF, DOCX, plain text, statutes without front matter) get metadata
inferred from their name and first heading. Validation errors name the file and the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.domain import PRODUCT_RISK_LEVELS, DocType
from copilot.segments import active_segments

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".pdf", ".docx"}


class KnowledgeError(ValueError):
    """A knowledge file that cannot be read; the message names the file and the field."""

    def __init__(self, path: Path | str, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        where = f"{self.path}" + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {message}")


class DocMeta(BaseModel):
    """Front matter of a knowledge document. Unknown keys are kept (``extra``)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)  # short forms customers use (月月盈, 天天利)
    type: DocType = DocType.other
    # every segment of the registry in force at reading (prompts/segments.yaml) when not given
    segments: list[str] = Field(default_factory=lambda: list(active_segments().ids))
    product_code: str = ""
    product_type: str = ""  # deposit | wealth | fund | pension_wealth | personal_pension | card | service
    risk_level: str = ""  # R1..R5 for investment products
    benchmark: str = ""  # 业绩比较基准
    benchmark_basis: str = ""  # 业绩比较基准的测算依据
    term: str = ""
    min_amount: str = ""
    effective_date: dt.date | None = None
    expiry_date: dt.date | None = None
    version: str = ""
    approval_no: str = ""  # 话术审批编号
    source: str = ""  # attribution / provenance
    sample: bool = False  # invented sample material of a fictional bank
    tags: list[str] = Field(default_factory=list)

    @field_validator("segments", mode="before")
    @classmethod
    def _segments(cls, v: Any) -> list[str]:
        registry = active_segments()
        if v in (None, "", "all", ["all"]):
            return list(registry.ids)
        if isinstance(v, str):
            v = [v]
        bad = [s for s in v if s not in registry]
        if bad:
            raise ValueError(f"未知客群 {bad}，可选：{registry.choices()}")
        return list(v)

    @field_validator("risk_level")
    @classmethod
    def _risk(cls, v: str) -> str:
        v = (v or "").strip().upper()
        if v and v not in PRODUCT_RISK_LEVELS:
            raise ValueError(f"未知风险等级 {v!r}，应为 R1–R5")
        return v

    @field_validator("version", "product_code", "approval_no", mode="before")
    @classmethod
    def _str(cls, v: Any) -> str:
        return "" if v is None else str(v)


@dataclass
class Document:
    meta: DocMeta
    body: str  # Markdown (or plain text) after front matter
    path: Path
    content_hash: str

    @property
    def source_path(self) -> str:
        return str(self.path)

    def is_expired(self, on: dt.date | None = None) -> bool:
        on = on or dt.date.today()
        return self.meta.expiry_date is not None and self.meta.expiry_date < on


def source_file(source_path: str, settings: Any) -> Path:
    """The file an indexed passage's ``source_path`` names: the index stores paths inside the
    content root relative to it (``retrieval.ingest.source_key``), so resolve them there."""
    path = Path(source_path)
    return path if path.is_absolute() else settings.content_root / path


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_knowledge_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every supported file under the given files/folders, in a stable order; hidden files skipped."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                hidden = any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
                if f.is_file() and not hidden and f.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield f
        elif p.is_file():
            yield p
        else:
            raise KnowledgeError(p, "文件或目录不存在")


_DATE_IN_NAME = re.compile(r"[（(](\d{4}-\d{2}-\d{2})[)）]")


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise KnowledgeError(path, "文件为空")
    if b"\x00" in data[:4096]:
        raise KnowledgeError(path, "看起来是二进制文件，不是文本")
    for enc in ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    try:
        # GB18030 is the superset Chinese Windows tools still write; accept it, but only if clean.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(path, f"无法解码（需要 UTF-8 或 GB18030）: {exc.reason}") from exc


_YAML_FM = frontmatter.YAMLHandler()


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """(front matter, body). python-frontmatter silently drops a front matter that is not a
    mapping and keeps an unclosed one as body text; both are broken files, so say so."""
    text = text.strip()
    if not _YAML_FM.detect(text):
        return {}, text
    try:
        fm, body = _YAML_FM.split(text)
    except ValueError as exc:
        raise KnowledgeError(path, "front matter 缺少结束行 ---", "front matter") from exc
    try:
        data = _YAML_FM.load(fm)
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, f"front matter 不是有效的 YAML: {exc}", "front matter") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KnowledgeError(path, "front matter 应为“字段: 值”形式的映射", "front matter")
    return data, body.strip()


def _read_pdf(path: Path, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise KnowledgeError(path, f"PDF 无法解析: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise KnowledgeError(path, "PDF 中没有可提取的文字（可能是扫描件）")
    return text


def _read_docx(path: Path, data: bytes) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import OpcError

    try:
        d = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, OpcError, KeyError, ValueError) as exc:
        raise KnowledgeError(path, f"DOCX 无法解析: {exc}") from exc
    lines: list[str] = []
    for para in d.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        m = re.match(r"heading (\d)", style)
        lines.append(f"{'#' * int(m.group(1))} {text}" if m else text)
    for table in d.tables:
        for row in table.rows:
            lines.append(" | ".join(c.text.strip() for c in row.cells))
    text = "\n\n".join(lines)
    if not text.strip():
        raise KnowledgeError(path, "DOCX 中没有文字")
    return text


def _infer_meta(path: Path, body: str, given: dict[str, Any]) -> dict[str, Any]:
    """Fill what a file without (complete) front matter can tell about itself."""
    meta = dict(given)
    stem = path.stem
    if "title" not in meta:
        m = re.search(r"^#\s+(.+)$", body, flags=re.M)
        meta["title"] = m.group(1).strip() if m else _DATE_IN_NAME.sub("", stem).strip() or stem
    if "id" not in meta:
        meta["id"] = re.sub(r"\s+", "-", _DATE_IN_NAME.sub("", stem).strip()) or stem
    date_m = _DATE_IN_NAME.search(stem)
    if date_m and "effective_date" not in meta:
        meta["effective_date"] = date_m.group(1)
    if "type" not in meta and re.search(r"^第[一二三四五六七八九十百零〇]+条", body, flags=re.M):
        meta["type"] = DocType.regulation.value
    return meta


def read_document(path: Path, data: bytes | None = None) -> Document:
    """Read one knowledge file into a validated Document, or raise KnowledgeError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise KnowledgeError(path, f"不支持的文件类型 {suffix or '(无扩展名)'}")
    if data is None:
        data = path.read_bytes()
    digest = file_hash(data)
    if suffix == ".pdf":
        given, body = {}, _read_pdf(path, data)
    elif suffix == ".docx":
        given, body = {}, _read_docx(path, data)
    else:
        given, body = _split_front_matter(path, _decode(path, data))
        if not body.strip():
            raise KnowledgeError(path, "正文为空", "body")
    meta_dict = _infer_meta(path, body, given)
    try:
        meta = DocMeta.model_validate(meta_dict)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or None
        # our validators already speak Chinese; pydantic's own messages are English, so name the value
        if err["type"] == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            message = f"取值无效 {err.get('input')!r}（{err['msg']}）"
        raise KnowledgeError(path, message, field) from exc
    return Document(meta=meta, body=body, path=path, content_hash=digest)


class Product(BaseModel):
    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    risk_level: str = ""
    product_type: str = ""
    segments: list[str] = Field(default_factory=list)
    benchmark: str = ""
    benchmark_basis: str = ""  # how the benchmark was set, and that it is no promise (the sheet's words)
    doc_id: str = ""
    source_path: str = ""


def load_products(knowledge_dir: Path) -> dict[str, Product]:
    """Product code -> Product, from every product sheet's front matter (unreadable files skipped)."""
    products: dict[str, Product] = {}
    if not knowledge_dir.exists():
        return products
    for f in iter_knowledge_files([knowledge_dir]):
        if f.suffix.lower() not in {".md", ".markdown"}:
            continue
        try:
            doc = read_document(f)
        except KnowledgeError:
            continue
        m = doc.meta
        if m.type == DocType.product and m.product_code:
            products[m.product_code.upper()] = Product(
                code=m.product_code.upper(),
                name=m.title,
                aliases=m.aliases,
                risk_level=m.risk_level,
                product_type=m.product_type,
                segments=m.segments,
                benchmark=m.benchmark,
                benchmark_basis=m.benchmark_basis or "",
                doc_id=m.id,
                source_path=str(f),
            )
    return products


def product_catalog(knowledge_dir: Path | None = None) -> dict[str, Product]:
    """Cached catalogue for the configured content root."""
    from copilot.config import get_settings

    # keyed by the segments too: front matter naming a segment only another registry knows
    return _catalog(knowledge_dir or get_settings().knowledge_dir, active_segments().ids)


@lru_cache(maxsize=4)
def _catalog(knowledge_dir: Path, segments: tuple[str, ...]) -> dict[str, Product]:
    return load_products(knowledge_dir)
