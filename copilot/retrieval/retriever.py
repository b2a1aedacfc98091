"""Hybrid retrieval: dense (Chroma) + BM25 (jieba), fused by reciprocal rank.

Filters (segment, document type, product code, expiry) apply to both sides before fusion, so a
filtered search ranks only eligible passages.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any, Literal

import numpy as np

from copilot.config import Settings, get_settings
from copilot.domain import Hit
from copilot.retrieval.embeddings import get_embedder
from copilot.retrieval.ingest import index_generation
from copilot.retrieval.keyword import BM25Index
from copilot.retrieval.text import normalize
from copilot.retrieval.vectorstore import collection_name, get_collection, index_vanished, make_client

RRF_K = 20  # chosen on the Fin-Eva clause set (bench/retrieval.py); 60 costs ~0.01 R@5
Mode = Literal["hybrid", "dense", "bm25", "random"]


class Retriever:
    """Search the knowledge index. Reloads its keyword side when the index changes."""

    def __init__(self, settings: Settings | None = None, mode: Mode = "hybrid"):
        self.settings = settings or get_settings()
        self.mode = mode
        self.embedder = get_embedder(self.settings)
        self.collection = get_collection(
            make_client(self.settings), collection_name(self.settings, self.embedder.name)
        )
        self._lock = threading.Lock()
        self._loaded: tuple[int, int] | None = None
        self._ids: list[str] = []
        self._docs: list[str] = []
        self._metas: list[dict[str, Any]] = []
        self._bm25: BM25Index | None = None

    # -- keyword side -------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if index_vanished(self.settings):  # deleted under us: reopen (empty), so callers say so
            with self._lock:
                self.collection = get_collection(
                    make_client(self.settings), collection_name(self.settings, self.embedder.name)
                )
                self._loaded = None
        stamp = (index_generation(), self.collection.count())
        if self._loaded == stamp:
            return
        with self._lock:
            if self._loaded == stamp:
                return
            got = self.collection.get(include=["documents", "metadatas"])
            self._ids = list(got["ids"])
            self._docs = list(got["documents"] or [])
            self._metas = list(got["metadatas"] or [])
            pairs = zip(self._docs, self._metas, strict=True)
            self._bm25 = BM25Index.from_texts([f"{m.get('title', '')} {m.get('heading', '')} {d}" for d, m in pairs])
            self._loaded = stamp

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._ids)

    # -- filters ------------------------------------------------------------------------------
    @staticmethod
    def _where(
        segment: str | None, doc_type: str | None, product_code: str | None, include_expired: bool
    ) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if segment:
            clauses.append({f"seg_{segment}": True})
        if doc_type:
            clauses.append({"doc_type": doc_type})
        if product_code:
            clauses.append({"product_code": product_code.upper()})
        if not include_expired:
            today = int(dt.date.today().strftime("%Y%m%d"))
            clauses.append({"$or": [{"expiry": 0}, {"expiry": {"$gte": today}}]})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @staticmethod
    def _eligible(
        meta: dict[str, Any], segment: str | None, doc_type: str | None, product_code: str | None,
        include_expired: bool, today: int,
    ) -> bool:
        if segment and not meta.get(f"seg_{segment}"):
            return False
        if doc_type and meta.get("doc_type") != doc_type:
            return False
        if product_code and meta.get("product_code") != product_code.upper():
            return False
        expiry = int(meta.get("expiry", 0) or 0)
        return include_expired or expiry == 0 or expiry >= today

    # -- search -------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        segment: str | None = None,
        doc_type: str | None = None,
        product_code: str | None = None,
        include_expired: bool = False,
    ) -> list[Hit]:
        query = normalize(query)
        if not query:
            raise ValueError("查询为空")
        self._ensure_loaded()
        if not self._ids:
            return []
        depth = max(k * 4, 30)
        today = int(dt.date.today().strftime("%Y%m%d"))
        mask = np.array(
            [self._eligible(m, segment, doc_type, product_code, include_expired, today) for m in self._metas]
        )
        if not mask.any():
            return []
        index_of = {cid: i for i, cid in enumerate(self._ids)}
        scores: dict[int, float] = {}

        if self.mode == "random":  # a deliberately bad ranker: proves the eval harness can fail
            pool = [i for i in range(len(self._ids)) if mask[i]]
            random.Random(query).shuffle(pool)
            ranked_lists: list[list[int]] = [pool[:depth]]
        else:
            ranked_lists = []
            if self.mode in ("hybrid", "dense"):
                res = self.collection.query(
                    query_embeddings=[self.embedder.embed_query(query).tolist()],
                    n_results=min(depth, int(mask.sum())),
                    where=self._where(segment, doc_type, product_code, include_expired),
                    include=[],
                )
                ranked_lists.append([index_of[c] for c in res["ids"][0] if c in index_of])
            if self.mode in ("hybrid", "bm25"):
                assert self._bm25 is not None
                bm = self._bm25.scores(query)
                bm[~mask] = -1.0
                order = np.argsort(-bm)[:depth]
                ranked_lists.append([int(i) for i in order if bm[i] > 0])
        for ranked in ranked_lists:
            for rank, i in enumerate(ranked):
                scores[i] = scores.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
        return [self._hit(i, s) for i, s in best]

    def _hit(self, i: int, score: float) -> Hit:
        m = self._metas[i]
        return Hit(
            chunk_id=self._ids[i],
            doc_id=m.get("doc_id", ""),
            title=m.get("title", ""),
            heading=m.get("heading", ""),
            text=self._docs[i],
            source_path=m.get("source_path", ""),
            doc_type=m.get("doc_type", "other"),
            segments=[s for s in str(m.get("segments", "")).split(",") if s],
            product_code=m.get("product_code", ""),
            risk_level=m.get("risk_level", ""),
            version=str(m.get("version", "")),
            effective_date=m.get("effective_date", ""),
            expiry_date=m.get("expiry_date", ""),
            score=round(score, 6),
        )

    def passage(self, chunk_id: str) -> Hit | None:
        """One chunk by id (citation chips open the source passage)."""
        self._ensure_loaded()
        try:
            i = self._ids.index(chunk_id)
        except ValueError:
            return None
        return self._hit(i, 0.0)
