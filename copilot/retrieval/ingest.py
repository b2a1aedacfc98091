"""Incremental ingestion: read → chunk → embed → upsert, one file at a time.

The index itself is the manifest: every chunk stores its file's key, content hash and the file's
chunk count. A file is up to date when the index holds exactly that many chunks with its current
hash; anything else (changed, or half-written by a killed run) is deleted and written again, so a
re-run repairs the index and never duplicates chunks.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.config import Settings, get_settings
from copilot.knowledge import Document, KnowledgeError, iter_knowledge_files, read_document
from copilot.retrieval.chunking import CHUNKER_VERSION, chunk_document
from copilot.retrieval.embeddings import get_embedder
from copilot.retrieval.vectorstore import collection_name, get_collection, make_client
from copilot.segments import segments_of

BATCH = 32
_generation = 0  # bumped after every write so in-process retrievers reload


def index_generation() -> int:
    return _generation


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"新增 {self.added} / 更新 {self.updated} / 删除 {self.removed} / 未变 {self.unchanged} / "
            f"失败 {len(self.failed)}（嵌入 {self.chunks} 个片段，用时 {self.seconds:.1f} 秒）"
        )


def source_key(path: Path, settings: Settings) -> str:
    """Path relative to the content root when inside it (stable across checkouts), else absolute."""
    path = path.resolve()
    try:
        return path.relative_to(settings.content_root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _flat_meta(doc: Document, key: str, n_chunks: int) -> dict[str, Any]:
    m = doc.meta
    meta: dict[str, Any] = {
        "doc_id": m.id,
        "title": m.title,
        "doc_type": m.type.value,
        "source_path": key,
        "content_hash": doc.content_hash,
        "chunk_count": n_chunks,
        "chunker": CHUNKER_VERSION,
        "segments": ",".join(m.segments),
        "product_code": m.product_code.upper(),
        "risk_level": m.risk_level,
        "version": m.version,
        "effective_date": m.effective_date.isoformat() if m.effective_date else "",
        "expiry_date": m.expiry_date.isoformat() if m.expiry_date else "",
        # ints for Chroma's where-filters; 0 = never expires
        "expiry": int(m.expiry_date.strftime("%Y%m%d")) if m.expiry_date else 0,
    }
    for seg in m.segments:
        meta[f"seg_{seg}"] = True
    return meta


def _existing(collection: Any) -> dict[str, dict[str, Any]]:
    """source key -> {hash, count, expected, ids} as the index holds it now."""
    state: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"hashes": set(), "chunkers": set(), "segments": set(), "ids": [], "expected": 0}
    )
    got = collection.get(include=["metadatas"])
    for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
        s = state[meta["source_path"]]
        s["hashes"].add(meta.get("content_hash", ""))
        s["chunkers"].add(meta.get("chunker", 1))
        s["segments"].add(meta.get("segments", ""))
        s["ids"].append(cid)
        s["expected"] = int(meta.get("chunk_count", 0))
    return state


def _is_current(entry: dict[str, Any] | None, digest: str, segments: list[str]) -> bool:
    return (
        bool(entry)
        and entry["hashes"] == {digest}
        # a segment added to prompts/segments.yaml widens every "all segments" document
        and entry["segments"] == {",".join(segments)}
        and entry["chunkers"] == {CHUNKER_VERSION}  # chunked by an older chunker: chunk again
        and len(entry["ids"]) == entry["expected"]
    )


def ingest(
    paths: list[Path] | None = None, settings: Settings | None = None, progress: bool = False
) -> IngestReport:
    """Bring the index in line with the given files/folders (default: the knowledge folder).

    Files that disappeared from a given folder leave the index; files outside the given paths
    are left alone.
    """
    settings = settings or get_settings()
    with segments_of(settings):  # front matter is read against this content root's segments
        return _ingest(paths, settings, progress)


def _ingest(paths: list[Path] | None, settings: Settings, progress: bool) -> IngestReport:
    global _generation
    started = time.perf_counter()
    roots = [Path(p) for p in (paths or [settings.knowledge_dir])]
    report = IngestReport()
    embedder = get_embedder(settings)
    collection = get_collection(make_client(settings), collection_name(settings, embedder.name))
    state = _existing(collection)

    files: list[Path] = []
    for root in roots:
        try:
            files.extend(iter_knowledge_files([root]))
        except KnowledgeError as exc:
            report.failed.append((exc.path, str(exc)))
    seen: set[str] = set()

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]索引[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), disable=not progress, transient=False,
    )
    with bar:
        task = bar.add_task("", total=len(files))
        for path in files:
            key = source_key(path, settings)
            seen.add(key)
            bar.update(task, description=path.name)
            try:
                data = path.read_bytes()
                if len(data) > settings.max_file_bytes:
                    raise KnowledgeError(path, f"文件过大（{len(data)} 字节，上限 {settings.max_file_bytes}）")
                digest = hashlib.sha256(data).hexdigest()
                entry = state.get(key)
                doc = read_document(path, data)
                if _is_current(entry, digest, doc.meta.segments):
                    report.unchanged += 1
                    continue
                chunks = chunk_document(doc.body, doc.meta.title)
                if not chunks:
                    raise KnowledgeError(path, "没有可索引的正文", "body")
                if entry:
                    collection.delete(where={"source_path": key})
                base = hashlib.sha1(key.encode()).hexdigest()[:16]
                meta = _flat_meta(doc, key, len(chunks))
                for start in range(0, len(chunks), BATCH):
                    batch = chunks[start : start + BATCH]
                    texts = [f"{doc.meta.title}\n{c.heading}\n{c.text}".strip() for c in batch]
                    vectors = embedder.embed_passages(texts)
                    collection.upsert(
                        ids=[f"{base}:{start + i}" for i in range(len(batch))],
                        embeddings=vectors.tolist(),
                        documents=[c.text for c in batch],
                        metadatas=[{**meta, "heading": c.heading, "chunk_no": start + i}
                                   for i, c in enumerate(batch)],
                    )
                report.chunks += len(chunks)
                if entry:
                    report.updated += 1
                else:
                    report.added += 1
            except (KnowledgeError, OSError) as exc:
                report.failed.append((str(path), str(exc)))
            finally:
                bar.advance(task)

    # Files gone from a folder we were asked to ingest leave the index.
    root_keys = [source_key(r, settings) for r in roots if r.is_dir()]
    for key in list(state):
        inside = any(key == rk or key.startswith(rk.rstrip("/") + "/") for rk in root_keys)
        if inside and key not in seen:
            collection.delete(where={"source_path": key})
            report.removed += 1
    if report.added or report.updated or report.removed:
        _generation += 1
    report.seconds = time.perf_counter() - started
    return report
