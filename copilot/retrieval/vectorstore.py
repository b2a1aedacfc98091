"""Chroma access: an embedded PersistentClient in the data directory, or an HttpClient when a
Chroma server URL is configured. We always pass our own embeddings (Chroma's default embedding
function would download a model)."""

from __future__ import annotations

import re
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
    return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)


def collection_name(settings: Settings, embedder_name: str) -> str:
    """Vectors of different models must not share a collection (dimensions and spaces differ)."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", embedder_name).strip("-").lower()
    # Chroma wants a name that ends in a letter or digit; the cut may land on a dash
    return f"{settings.collection}-{slug}"[:60].rstrip("-")


def get_collection(client: chromadb.ClientAPI, name: str) -> Any:
    return client.get_or_create_collection(
        name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
