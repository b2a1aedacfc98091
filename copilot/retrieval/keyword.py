"""BM25 over jieba tokens + character bigrams.

A small inverted index in numpy rather than rank-bm25: that package scores every document in a
Python loop per query term (and is unmaintained since 2022); postings keep a query at ~1 ms.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from copilot.retrieval.text import tokenize


class BM25Index:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        self.k1, self.b = k1, b
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-6))
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                postings[term].append((i, tf))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, plist in postings.items():
            ids = np.fromiter((p[0] for p in plist), dtype=np.int32, count=len(plist))
            tfs = np.fromiter((p[1] for p in plist), dtype=np.float32, count=len(plist))
            idf = math.log(1 + (self.n - len(plist) + 0.5) / (len(plist) + 0.5))
            # precompute the per-posting BM25 weight; a query only sums them
            self._postings[term] = (ids, idf * tfs * (k1 + 1) / (tfs + norm[ids]))

    @classmethod
    def from_texts(cls, texts: list[str]) -> BM25Index:
        return cls([tokenize(t) for t in texts])

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(tokenize(query)):
            hit = self._postings.get(term)
            if hit is not None:
                np.add.at(out, hit[0], hit[1])
        return out
