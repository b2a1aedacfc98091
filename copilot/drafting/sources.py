"""Retrieval for drafting: the passages a draft rests on, for one ``Scope``.

One hybrid search (dense + BM25) brings the passages most like the message, within the segment.
Product sheets, investor education and approved scripts are then fetched by keyword (BM25 only,
no embedding), which is exact for "the 业绩比较基准 section of QH-WM-R2-002" and keeps the
copilot's own overhead low.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.config import Settings
from copilot.domain import Channel, DocType, Hit
from copilot.drafting.facts import ProductFacts
from copilot.drafting.retrievers import retriever
from copilot.drafting.scenarios import Scenario
from copilot.drafting.script_choice import ScriptChoice, ScriptQuery, pick_script

# What to look up in a product's sheet, by how the draft speaks of the product.
_PRODUCT_QUERY = {
    "unsuitable": "风险等级 产品概述 适合人群 风险揭示",
    "investment": "业绩比较基准及测算依据 不构成收益承诺 风险揭示",
    "deposit": "存款保险 风险揭示 利率",
    "other": "产品要素 规则 风险揭示",
}


@dataclass(frozen=True)
class Scope:
    """What a draft is about: the question, where it is asked, the products and scenarios."""

    query: str
    segment: str | None
    products: tuple[ProductFacts, ...]
    alternatives: tuple[ProductFacts, ...]
    scenarios: tuple[Scenario, ...]
    ceiling: str
    kind: str = "reply"  # "reply" | "post"
    channel: Channel = "one_to_one"
    topic_passages: tuple[str, ...] = ()  # doc ids of the passages that explain the needs asked about
    topic_query: str = ""  # the needs' own words, for finding those passages
    implied: frozenset[str] = frozenset()  # products in scope only because a need points to them
    topic_scripts: tuple[str, ...] = ()  # approved scripts written for the needs asked about
    topical: bool = True  # the question names a product or a need (topics.py): its subject is known


@dataclass(frozen=True)
class Retrieved:
    general: list[Hit]
    product_hits: dict[str, list[Hit]]  # code -> passages of its sheet, best first
    script: ScriptChoice | None  # the approved script and the reply in it the draft builds on
    script_hit: Hit | None  # the script's 话术 passage, cited
    education: list[Hit] = field(default_factory=list)


def _product_kind(p: ProductFacts, ceiling: str) -> str:
    if not p.suits(ceiling):
        return "unsuitable"
    if p.is_investment:
        return "investment"
    return "deposit" if p.product_type == "deposit" else "other"


def retrieve(scope: Scope, settings: Settings, general: list[Hit] | None = None, k: int = 4) -> Retrieved:
    """Passages for a draft. ``general`` may be passed in when the caller already searched."""
    keyword = retriever(settings, "bm25")
    query, segment = scope.query, scope.segment
    if general is None:
        general = retriever(settings, "hybrid").search(query, k=k, segment=segment)
    product_hits: dict[str, list[Hit]] = {}
    for p in [*scope.products, *scope.alternatives]:
        q = f"{p.short_name} {_PRODUCT_QUERY[_product_kind(p, scope.ceiling)]}"
        hits = keyword.search(q, k=2, product_code=p.code, include_expired=True)
        if p in scope.products:
            # the passages of its sheet that answer the question (ATM 取现手续费), steered by the needs
            # asked about (半价券 → 领券 名额 半价日), first: any passage of the sheet carries its facts
            asked = keyword.search(
                f"{query} {scope.topic_query}", k=3, product_code=p.code, include_expired=True,
                doc_type=DocType.product.value,
            )
            rest = [h for h in hits if h.chunk_id not in {x.chunk_id for x in asked}]
            # an investment's facts are cited to its 业绩比较基准 section: that one stays first
            hits = [*rest[:1], *asked, *rest[1:]] if p.is_investment else [*asked, *rest]
        product_hits[p.code] = hits
    scenario_words = " ".join(w for s in scope.scenarios for w in s.script_tags)
    script_hits = keyword.search(
        f"{query} {scenario_words} {scope.topic_query}", k=10, segment=segment, doc_type=DocType.script.value
    )
    wanted = ScriptQuery(
        message=query,
        scenarios=scope.scenarios,
        # a product a need points to is stated from its sheet; it does not pick a script about it
        in_scope=frozenset(p.code for p in scope.products) - scope.implied,
        kind=scope.kind,
        channel=scope.channel,
        for_needs=scope.topic_scripts,
        topical=scope.topical,
    )
    choice = pick_script(script_hits, wanted, settings)
    script_hit = choice.hit if choice else None
    if choice is not None and not choice.hit.heading.startswith("话术"):
        # Cite the passage the wording comes from (the 话术 section), not the one that matched.
        probe = f"{choice.script.title} 话术 {choice.block.text[:40]}"
        for h in keyword.search(probe, k=5, segment=segment, doc_type=DocType.script.value):
            if h.doc_id == choice.script.doc_id and h.heading.startswith("话术"):
                script_hit = h
                break
    # Investor education that answers the question itself (存款保险, 分期手续费, 防骗): used by the
    # template writer only when it shares enough with the question (compose._quote).
    education = keyword.search(query, k=2, segment=segment, doc_type=DocType.education.value)
    topical = [s for s in scope.scenarios if s.education]
    if topical and not (scope.products and topical[0].education_if_no_product):
        # the topic's own note ("保本吗" about no product in particular: 业绩比较基准不是收益承诺;
        # a falling holding: 净值为什么会跌), found by the scenario's words
        found = keyword.search(topical[0].education, k=3, segment=segment, doc_type=DocType.education.value)
        education = [h for h in found if h.heading][:1] + education
    if scope.topic_passages:
        # the passages prompts/needs.yaml names for the needs asked about (随时取 → 流动性)
        found = keyword.search(f"{scope.topic_query} {query}", k=12, doc_type=DocType.education.value)
        wanted = [h for h in found if h.doc_id in scope.topic_passages]
        education = wanted[:2] + [h for h in education if h.chunk_id not in {w.chunk_id for w in wanted[:2]}]
    return Retrieved(
        general=general, product_hits=product_hits, script=choice, script_hit=script_hit, education=education
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
