"""Product facts for drafting, straight from the product sheets' front matter.

A draft states a product's name, risk level and 业绩比较基准 with its basis. Those must be
exact, so they are never left to a model: they come from here and are cited to the sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from copilot.config import Settings
from copilot.domain import risk_rank
from copilot.knowledge import KnowledgeError, product_catalog, read_document

_CODE = re.compile(r"\bQH-[A-Z]{2,4}(?:-[A-Z0-9]{1,4}){1,3}\b", re.I)
_NAME_NOISE = re.compile(r"^(青禾理财|青禾代销|青禾银行|青禾信用卡|青禾)\s*|(产品|（已到期）|\(已到期\))+$")


@dataclass(frozen=True)
class ProductFacts:
    code: str
    name: str  # full title from the sheet
    short_name: str  # without the issuer prefix, for conversational text
    risk_level: str  # "" for deposits, cards and services
    product_type: str
    benchmark: str
    benchmark_basis: str
    term: str
    expired: bool
    doc_id: str
    source_path: str
    tags: tuple[str, ...] = ()

    @property
    def is_investment(self) -> bool:
        return bool(self.risk_level)

    def suits(self, max_risk: str) -> bool:
        """Whether this product may be put to a customer whose ceiling is ``max_risk`` (R1..R5)."""
        return not self.risk_level or risk_rank(self.risk_level) <= risk_rank(max_risk)


@lru_cache(maxsize=256)
def _read_facts(path: str, mtime_ns: int, code: str) -> ProductFacts:
    doc = read_document(Path(path))
    m = doc.meta
    return ProductFacts(
        code=code,
        name=m.title,
        short_name=_NAME_NOISE.sub("", m.title).strip() or m.title,
        risk_level=m.risk_level,
        product_type=m.product_type,
        benchmark=m.benchmark,
        benchmark_basis=m.benchmark_basis,
        term=m.term,
        expired=doc.is_expired(dt.date.today()),
        doc_id=m.id,
        source_path=doc.source_path,
        tags=tuple(m.tags),
    )


def product_facts(code: str, settings: Settings) -> ProductFacts | None:
    """Facts for one product code (case-insensitive), or None if no sheet has it."""
    product = product_catalog(settings.knowledge_dir).get(code.strip().upper())
    if product is None:
        return None
    path = Path(product.source_path)
    try:
        return _read_facts(str(path), path.stat().st_mtime_ns, product.code)
    except (OSError, KnowledgeError):
        return None


def named_in(text: str, p: ProductFacts) -> bool:
    """Whether a message points at this product by name or by a specific tag (养老理财, 大额存单).

    Two-character tags (理财, 基金) are too generic to tell products apart and are ignored.
    """
    name = p.short_name
    if any(name[i : i + 4] in text for i in range(max(1, len(name) - 3))):
        return True
    return any(len(t) >= 3 and t in text for t in p.tags)


def distinctly_named(text: str, settings: Settings) -> list[ProductFacts]:
    """Products the text names by a part of the name no other product shares: four characters
    ("成长精选", "养老储蓄") or the first three (天天利). "个人养老" names two products, so neither."""
    catalog = [f for f in (product_facts(c, settings) for c in product_catalog(settings.knowledge_dir)) if f]
    grams = {
        # four-character parts of the name, and its first three characters (a brand: 天天利)
        f.code: {f.short_name[i : i + 4] for i in range(max(0, len(f.short_name) - 3))} | {f.short_name[:3]}
        for f in catalog
    }
    found: list[ProductFacts] = []
    for f in catalog:
        others = set().union(*(g for c, g in grams.items() if c != f.code))
        if any(g in text for g in grams[f.code] - others if len(g) >= 3):
            found.append(f)
    return found


def codes_in_text(text: str) -> list[str]:
    """Product codes written in a message (QH-WM-R2-002 …), upper-cased, in order."""
    seen: list[str] = []
    for m in _CODE.finditer(text):
        code = m.group(0).upper()
        if code not in seen:
            seen.append(code)
    return seen


def customer_ceiling(customer_risk: str | None, segment_ceiling: str) -> str:
    """The highest product risk level to put to this customer: C-level and segment ceiling, lower wins."""
    ceiling = risk_rank(segment_ceiling)
    if customer_risk:
        ceiling = min(ceiling, risk_rank(customer_risk))
    return f"R{ceiling}"
