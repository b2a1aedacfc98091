"""Chroma access: an embedded PersistentClient in the data directory, or an HttpClient when a
Chroma server URL is configured. We always pass our own embeddings (Chroma's default embedding
function would download a model)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from copilot.config import Settings


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ValueError(f"COPILOT_CHROMA_URL 无效: {settings.chroma_url!r}")
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    path = settings.index_dir / "chroma"
    if not _sqlite_file(path).exists():
        _forget_system(path)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _sqlite_file(path: Path) -> Path:
    return path / "chroma.sqlite3"


def _forget_system(path: Path) -> None:
    """Chroma keeps one system per path for the process. If the index files were deleted under
    it, that system keeps reading and writing the deleted files (a reindex would then build an
    index nobody finds after a restart), so drop it and let the next client open a real one."""
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(str(path), None)
    SharedSystemClient._identifier_to_refcount.pop(str(path), None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


def index_vanished(settings: Settings) -> bool:
    """True when the embedded index's files are gone from disk (removed under a running process)."""
    return not settings.chroma_url and not _sqlite_file(settings.index_dir / "chroma").exists()


def collection_name(settings: Settings, embedder_name: str) -> str:
    """Vectors of different models must not share a collection (dimensions and spaces differ)."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", embedder_name).strip("-").lower()
    # Chroma wants a name that ends in a letter or digit; the cut may land on a dash
    return f"{settings.collection}-{slug}"[:60].rstrip("-")


def get_collection(client: chromadb.ClientAPI, name: str) -> Any:
    return client.get_or_create_collection(
        name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
