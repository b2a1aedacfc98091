"""Retrieval: index ``knowledge/`` and search it (dense + BM25, fused by reciprocal rank)."""

from copilot.retrieval.ingest import IngestReport, ingest
from copilot.retrieval.retriever import Retriever

__all__ = ["IngestReport", "Retriever", "ingest"]
