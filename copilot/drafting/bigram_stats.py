"""Bigram statistics: which bigrams are too common to tell topics apart, and overlaps without them.

Two different "common" sets, named for where they are counted:
``knowledge_common_bigrams`` — in more than a quarter of the knowledge documents (银行, 为准);
``script_common_bigrams`` — in many approved scripts' titles and 适用场景 (客户, 网点, 养老).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from copilot.config import Settings
from copilot.drafting.scripts import ApprovedScript
from copilot.knowledge import KnowledgeError, iter_knowledge_files, read_document
from copilot.text import bigrams


@lru_cache(maxsize=4)
def _common_in(files: tuple[tuple[str, int], ...]) -> frozenset[str]:
    counts: dict[str, int] = {}
    for path, _ in files:
        try:
            body = read_document(Path(path)).body
        except (KnowledgeError, OSError):
            continue
        for b in bigrams(body):
            counts[b] = counts.get(b, 0) + 1
    return frozenset(b for b, n in counts.items() if n > len(files) // 4)


def knowledge_common_bigrams(settings: Settings) -> frozenset[str]:
    """Bigrams found in more than a quarter of the knowledge documents (银行, 手机, 为准, 客户 …):
    sharing them says nothing about sharing a topic."""
    folder = settings.knowledge_dir
    if not folder.is_dir():
        return frozenset()
    files = tuple((str(f), f.stat().st_mtime_ns) for f in iter_knowledge_files([folder]) if f.suffix.lower() == ".md")
    return _common_in(files)


def topical_overlap(a: str, b: str, common: frozenset[str]) -> int:
    """Bigrams two texts share, the knowledge base's common ones left out."""
    return len((bigrams(a) & bigrams(b)) - common)


def script_common_bigrams(scripts: list[ApprovedScript]) -> set[str]:
    counts: dict[str, int] = {}
    for sc in scripts:
        for b in bigrams(f"{sc.title}{sc.situation}"):
            counts[b] = counts.get(b, 0) + 1
    return {b for b, n in counts.items() if n >= max(3, len(scripts) // 4)}


def situation_similarity(text: str, script: ApprovedScript, common: set[str]) -> int:
    """Bigrams the text shares with the script's title and 适用场景, common ones left out."""
    return len((bigrams(text) - common) & bigrams(f"{script.title}{script.situation}"))
