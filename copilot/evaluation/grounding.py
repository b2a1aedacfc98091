"""What a draft claims, and whether its cited sources back it.

A draft is grounded when every figure (rate, amount, term, count), date, time, product risk level
and product name in it also appears in one of the passages it cites (or was already in the
customer's own message: echoing the question is no claim). Figures are compared by value and
unit, so "2.9%" matches "2.90%" and "1万元" matches "10000元".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from copilot.domain import Citation
from copilot.drafting.grounding import Fact, extract_facts  # the one extraction, shared with drafting

DISCLOSURE = "理财非存款、产品有风险、投资须谨慎"

_MARKER = re.compile(r"\[(\d{1,2})\]")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), so ２．９％ and 2.9% read the same."""
    return unicodedata.normalize("NFKC", text)


def compact(text: str) -> str:
    """Text without whitespace or punctuation, for phrase containment that ignores layout."""
    return _PUNCT.sub("", normalize(text))


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def markers(text: str) -> set[int]:
    return {int(m) for m in _MARKER.findall(text)}


def product_mentions(text: str, aliases: dict[str, list[str]]) -> set[str]:
    """Product codes whose code or any alias appears in ``text``."""
    plain = normalize(text)
    upper = plain.upper()
    return {code for code, names in aliases.items() if code in upper or any(n in plain for n in names)}


@dataclass
class Grounding:
    facts: list[Fact]
    ungrounded: list[Fact]

    @property
    def ok(self) -> bool:
        return not self.ungrounded


def check_grounding(
    draft: str,
    sources: Iterable[str],
    aliases: dict[str, list[str]],
    customer_text: str = "",
) -> Grounding:
    """Every fact in the draft must be in the sources; facts from the customer's message are exempt."""
    source_text = "\n".join(sources)
    known = {f.key for f in extract_facts(source_text)}
    echoed = {f.key for f in extract_facts(customer_text)}
    by_key = {(f.kind, f.key): f for f in reversed(extract_facts(draft))}  # first mention of each
    facts = [by_key[k] for k in sorted(by_key)]
    ungrounded = [f for f in facts if f.key not in known and f.key not in echoed]
    source_upper = normalize(source_text).upper()
    for code in sorted(product_mentions(draft, aliases)):
        fact = Fact("product", code, code)
        facts.append(fact)
        named = code in source_upper or any(n in source_text for n in aliases[code])
        if not named and code not in product_mentions(customer_text, {code: aliases[code]}):
            ungrounded.append(fact)
    return Grounding(facts, ungrounded)


def has_disclosure(text: str) -> bool:
    return compact(DISCLOSURE) in compact(text)


def resolve_citation(citation: Citation, passage_text: str | None, content_root: Path) -> str:
    """Why a citation does not point at a real passage ("" when it does).

    ``passage_text`` is the indexed chunk under the citation's chunk id (None if the index has no
    such chunk); the source file must exist and carry the cited document id.
    """
    from copilot.knowledge import KnowledgeError, read_document

    if passage_text is None:
        return f"[{citation.n}] 引用的片段 {citation.chunk_id} 不在索引中"
    if citation.text and compact(citation.text) != compact(passage_text):
        return f"[{citation.n}] 引用的文字与索引中的片段不一致"
    path = Path(citation.source_path)
    if not path.is_absolute():
        path = content_root / path
    if not path.is_file():
        return f"[{citation.n}] 来源文件不存在: {citation.source_path}"
    try:
        doc = read_document(path)
    except KnowledgeError as exc:
        return f"[{citation.n}] 来源文件无法读取: {exc}"
    if doc.meta.id != citation.doc_id:
        return f"[{citation.n}] 文档 id 不符: 引用 {citation.doc_id}，文件里是 {doc.meta.id}"
    return ""
