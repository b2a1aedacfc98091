"""One Retriever per index and mode, shared by every draft, and the check that the index is not empty."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from copilot.config import Settings

if TYPE_CHECKING:
    from copilot.retrieval import Retriever

_retrievers: dict[tuple[str, ...], Retriever] = {}
_retrievers_lock = threading.Lock()


def retriever(settings: Settings, mode: str = "hybrid") -> Retriever:
    """One Retriever per index and mode, reused across drafts (it is cheap after the first call).

    An empty index is an error, not an empty result: a draft must rest on approved material.
    """
    from copilot.drafting.request import DraftingUnavailable
    from copilot.retrieval import Retriever

    key = (
        str(settings.data_dir),
        settings.chroma_url,
        settings.collection,
        settings.embedding_backend,
        settings.embedding_model,
        mode,
    )
    with _retrievers_lock:
        r = _retrievers.get(key)
        if r is None:
            r = _retrievers[key] = Retriever(settings, mode=mode)  # type: ignore[arg-type]
    if len(r) == 0:
        raise DraftingUnavailable(
            f"知识库索引为空（{settings.index_dir}）：请先运行 copilot ingest",
            public="知识库索引为空：请先运行 copilot ingest，或由管理员在“知识库”中重建索引。",
        )
    return r


def ensure_ready(settings: Settings) -> None:
    """Raise DraftingUnavailable if drafts cannot rest on approved material (an empty index).

    The service calls this before a stream starts, so an empty index is a real 503, not an
    error event inside a 200 response."""
    retriever(settings, "bm25")
