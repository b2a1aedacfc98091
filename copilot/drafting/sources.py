"""Retrieval for drafting: which passages a draft rests on, and the short snippets a model sees.

One hybrid search (dense + BM25) brings the passages most like the message, within the segment.
Product sheets and approved scripts are then fetched by keyword (BM25 only, no embedding), which
is exact for "the 业绩比较基准 section of QH-WM-R2-002" and keeps the copilot's own overhead low.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.config import Settings
from copilot.domain import DocType, Hit
from copilot.drafting.facts import ProductFacts, product_facts
from copilot.drafting.scenarios import Scenario
from copilot.drafting.scripts import ApprovedScript, load_script

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
        raise DraftingUnavailable(f"知识库索引为空（{settings.index_dir}）：请先运行 copilot ingest")
    return r


# --- snippets ------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s*|>\s*|[-*+]\s+|\d+[.)、]\s*)|\*\*|`")


def _bigrams(text: str) -> set[str]:
    han = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9%.]", "", text)
    return {han[i : i + 2] for i in range(len(han) - 1)}


def snippet(text: str, query: str, max_chars: int = 90) -> str:
    """The sentences of a passage that share most with the query, in their original order.

    Small models read prompts slowly (~80 tokens/s here), so each source is cut to a few
    sentences rather than sent whole.
    """
    plain = "\n".join(_MARKUP.sub("", line).replace("|", "，").strip(" ，") for line in text.splitlines())
    sentences = [s.strip() for s in _SENTENCE.findall(plain) if len(s.strip()) > 3 and "示例材料" not in s]
    if not sentences:
        return plain[:max_chars]
    q = _bigrams(query)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(q & _bigrams(sentences[i])), i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used and used + len(sentences[i]) > max_chars:
            continue
        chosen.append(i)
        used += len(sentences[i])
        if used >= max_chars:
            break
    out = "".join(
        sentences[i] if sentences[i][-1] in "。！？；" else sentences[i] + "。" for i in sorted(chosen)
    )
    return out if len(out) <= max_chars else out[: max_chars - 1] + "…"


# --- what a draft rests on -----------------------------------------------------------------------
_PRODUCT_QUERY = {
    "unsuitable": "风险等级 产品概述 适合人群 风险揭示",
    "investment": "业绩比较基准及测算依据 不构成收益承诺 风险揭示",
    "deposit": "存款保险 风险揭示 利率",
    "other": "产品要素 规则 风险揭示",
}


@dataclass
class Retrieved:
    general: list[Hit]
    product_hits: dict[str, list[Hit]]  # code -> passages of its sheet, best first
    script: ApprovedScript | None
    script_hit: Hit | None
    education: list[Hit] = field(default_factory=list)


def _product_kind(p: ProductFacts, ceiling: str) -> str:
    if not p.suits(ceiling):
        return "unsuitable"
    if p.is_investment:
        return "investment"
    return "deposit" if p.product_type == "deposit" else "other"


def _pick_script(
    hits: list[Hit], scenarios: list[Scenario], message: str, in_scope: set[str], settings: Settings
) -> tuple[ApprovedScript | None, Hit | None]:
    """The approved script to build on: it must fit the scenario (tags) and the products in scope.

    A script written for one product (its front matter names a product code) is never used for
    a question about another product; scripts without a product code are generic.
    """
    for scenario in [s for s in scenarios if s.id != "injection"]:
        picked = _best_script(hits, scenario, message, in_scope, settings)
        if picked is not None:
            return picked
    return None, None


def _best_script(
    hits: list[Hit], scenario: Scenario, message: str, in_scope: set[str], settings: Settings
) -> tuple[ApprovedScript, Hit] | None:
    wanted = set(scenario.script_tags)
    best: tuple[float, ApprovedScript, Hit] | None = None
    for rank, hit in enumerate(hits):
        script = load_script(Path(hit.source_path))
        if script is None:
            continue
        if script.product_code and script.product_code not in in_scope:
            # Written for one product. An investment script states that product's facts, so it
            # is used only when the customer asks about that product; a card or service script
            # (券抢完, 工资转出) fits any message in its scenario unless another product is meant.
            facts = product_facts(script.product_code, settings)
            if in_scope or facts is None or facts.is_investment:
                continue
        tag_overlap = len(wanted & set(script.tags))
        named = sum(1 for t in script.tags if len(t) >= 2 and t in message)
        # a general question must name the script's subject; otherwise the scenario's tags decide
        fits = named > 0 or script.product_code in in_scope if scenario.id == "general" else tag_overlap > 0
        if not fits:
            continue
        score = 2 * tag_overlap + named + (3 if script.product_code in in_scope else 0) - 0.1 * rank
        if best is None or score > best[0]:
            best = (score, script, hit)
    return (best[1], best[2]) if best else None


def retrieve(
    query: str,
    segment: str | None,
    products: list[ProductFacts],
    alternatives: list[ProductFacts],
    scenarios: list[Scenario],
    ceiling: str,
    settings: Settings,
    k: int = 4,
    general: list[Hit] | None = None,
) -> Retrieved:
    """Passages for a draft. ``general`` may be passed in when the caller already searched."""
    keyword = retriever(settings, "bm25")
    if general is None:
        general = retriever(settings, "hybrid").search(query, k=k, segment=segment)
    product_hits: dict[str, list[Hit]] = {}
    for p in [*products, *alternatives]:
        q = f"{p.short_name} {_PRODUCT_QUERY[_product_kind(p, ceiling)]}"
        product_hits[p.code] = keyword.search(q, k=2, product_code=p.code, include_expired=True)
    scenario_words = " ".join(w for s in scenarios for w in s.script_tags)
    script_hits = keyword.search(
        f"{query} {scenario_words}", k=5, segment=segment, doc_type=DocType.script.value
    )
    script, script_hit = _pick_script(script_hits, scenarios, query, {p.code for p in products}, settings)
    if script is not None and script_hit is not None and not script_hit.heading.startswith("话术"):
        # Cite the passage the wording comes from (the 话术 section), not the one that matched.
        probe = f"{script.title} 话术 {script.blocks[0].text[:40]}"
        for h in keyword.search(probe, k=5, segment=segment, doc_type=DocType.script.value):
            if h.doc_id == script.doc_id and h.heading.startswith("话术"):
                script_hit = h
                break
    education: list[Hit] = []
    if not products and any(s.id == "guarantee" for s in scenarios):
        # "保本吗" about no product in particular: ground the answer in the investor-education note.
        found = keyword.search(
            "业绩比较基准 不是收益承诺 不保本 净值", k=3, segment=segment, doc_type=DocType.education.value
        )
        education = [h for h in found if h.heading and "业绩比较基准" in h.text][:1]
    return Retrieved(
        general=general, product_hits=product_hits, script=script, script_hit=script_hit, education=education
    )


def implied_products(general: list[Hit], top: int = 4) -> list[str]:
    """Product codes of the top hits (product sheets, and scripts written for one product).

    "这个养老理财" → the product its best passages belong to. Callers keep only the ones the
    message actually names (``facts.named_in``): a question about 定投 must not pull in whichever
    wealth product happened to rank third.
    """
    codes: list[str] = []
    for h in general[:top]:
        if h.product_code and h.product_code not in codes:
            codes.append(h.product_code.upper())
    return codes
