"""Preparing a reply or a post: mask, note, retrieve, choose — one frozen ``Brief`` for the writers."""

from __future__ import annotations

import time
from dataclasses import replace

from copilot.config import Settings
from copilot.domain import Channel, RMProfile, Turn
from copilot.drafting.brief import Brief, ChosenScript, Source
from copilot.drafting.checking import inbound_notes, request_notes, script_passes
from copilot.drafting.facts import (
    ProductFacts,
    codes_in_text,
    customer_ceiling,
    distinctly_named,
    named_in,
    product_facts,
)
from copilot.drafting.personas import Persona, load_persona, load_rm_profile
from copilot.drafting.request import DraftingInputError, DraftRequest
from copilot.drafting.retrievers import retriever
from copilot.drafting.scenarios import detect_post_scenarios, detect_scenarios
from copilot.drafting.scripts import script_wording
from copilot.drafting.snippets import snippet
from copilot.drafting.sources import Retrieved, Scope, implied_products, retrieve
from copilot.drafting.timings import ms
from copilot.drafting.topics import Topics, arabic, find_topics, names_of
from copilot.knowledge import product_catalog, source_file
from copilot.segments import load_segments

MAX_SOURCES = 5
MAX_NEEDED = 2  # products a need implies that a reply may state ("随时取" → 天天利)
SNIPPET_CHARS = 90
NAMED_IN_ANY_REPLY = ("card", "service")  # product types a complaint or churn reply may name (a benefit, a service)
FOLLOW_UP_CHARS = 12  # a shorter message is read together with the customer's previous turn


def _explicit_products(codes: list[str], settings: Settings) -> list[ProductFacts]:
    out: list[ProductFacts] = []
    for code in codes:
        facts = product_facts(code, settings)
        if facts is None:
            raise DraftingInputError(f"未知产品代码：{code}（产品库中没有这个产品）")
        if facts not in out:
            out.append(facts)
    return out


def _facts_for(codes: list[str], settings: Settings) -> list[ProductFacts]:
    return [f for f in (product_facts(c, settings) for c in codes) if f is not None]


def _successors(products: list[ProductFacts], settings: Settings) -> list[str]:
    """Codes an expired product's own sheet points to ("可了解在售的稳盈180天持有期（QH-WM-R2-001）")."""
    from copilot.knowledge import read_document

    out: list[str] = []
    for p in products:
        if p.expired:
            body = read_document(source_file(p.source_path, settings)).body
            out += [c for c in codes_in_text(body) if c != p.code and c not in out]
    return out


def _alternatives(
    persona: Persona, products: list[ProductFacts], ceiling: str, settings: Settings
) -> list[ProductFacts]:
    taken = {p.code for p in products}
    out = [
        f
        for f in _facts_for([*_successors(products, settings), *persona.suitable_products], settings)
        # somewhere to keep money (a deposit or a suitable wealth product), not a card or a service
        if f.code not in taken and not f.expired and f.suits(ceiling) and f.product_type not in ("card", "service")
    ]
    return out[:2]


def _needed(topics: Topics, segment: str, ceiling: str, settings: Settings) -> list[ProductFacts]:
    """The products the needs asked about point to, that this customer may be offered here."""
    catalog = product_catalog(settings.knowledge_dir)
    fit = [
        f
        for f in _facts_for(list(topics.implied_products), settings)
        if f.suits(ceiling) and not f.expired and segment in catalog[f.code].segments
    ]
    return fit[:MAX_NEEDED]


def _deposit_names(settings: Settings) -> tuple[str, ...]:
    catalog = product_catalog(settings.knowledge_dir)
    return tuple(n for p in catalog.values() if p.product_type == "deposit" for n in (p.name, *p.aliases))


def _investment_names(settings: Settings) -> tuple[str, ...]:
    catalog = product_catalog(settings.knowledge_dir)
    # a risk level marks a wealth product or fund (deposits, cards and services have none)
    return tuple(n for p in catalog.values() if p.risk_level for n in names_of(p))


def _number_sources(retrieved: Retrieved, scope: Scope) -> tuple[tuple[Source, ...], ChosenScript | None]:
    """Number the passages [1]..[n]: product sheets first (facts), the script, the sheets of the
    alternatives the draft names, then investor education and the rest."""
    ordered = []
    for p in scope.products:
        ordered.extend(retrieved.product_hits.get(p.code, [])[:3])
    if retrieved.script_hit is not None:
        ordered.append(retrieved.script_hit)
    for a in scope.alternatives:
        ordered.extend(retrieved.product_hits.get(a.code, [])[:1])
    ordered.extend(retrieved.education)
    ordered.extend(retrieved.general)
    sources: list[Source] = []
    seen: set[str] = set()
    chosen: ChosenScript | None = None
    for hit in ordered:
        if hit.chunk_id in seen or len(sources) >= MAX_SOURCES + len(scope.products):
            continue
        seen.add(hit.chunk_id)
        src = Source(n=len(sources) + 1, hit=hit, snippet=snippet(hit.text, scope.query, SNIPPET_CHARS))
        sources.append(src)
        picked, picked_hit = retrieved.script, retrieved.script_hit
        if picked is not None and picked_hit is not None and hit.chunk_id == picked_hit.chunk_id:
            chosen = ChosenScript(source=src, block=picked.block)
    return tuple(sources), chosen


def _vetted(brief: Brief, settings: Settings) -> Brief:
    """The brief without its approved script if the current rule pack blocks the script's wording."""
    if brief.script is None:
        return brief
    wording = script_wording(brief.script.block, brief.rm, settings.prompts_dir)
    return brief if script_passes(brief, wording) else replace(brief, script=None)


def prepare_reply(req: DraftRequest, settings: Settings) -> tuple[Brief, dict[str, float]]:
    """The brief for a reply, and the milliseconds its steps took (mask, inbound_check, retrieve)."""
    from copilot.compliance import mask_pii

    timings: dict[str, float] = {}
    segment = req.customer.segment.value
    persona = load_persona(segment, settings)
    rm: RMProfile = req.rm or load_rm_profile(settings)

    t0 = time.perf_counter()
    message = mask_pii(req.message)
    history = tuple(Turn(role=t.role, text=mask_pii(t.text)) for t in req.history)
    timings["mask"] = ms(time.perf_counter() - t0)

    t0 = time.perf_counter()
    inbound = inbound_notes(message, segment)
    timings["inbound_check"] = ms(time.perf_counter() - t0)

    t0 = time.perf_counter()
    topics = find_topics(message, segment, settings, [t.text for t in history])
    last_customer = next((t.text for t in reversed(history) if t.role == "customer"), "")
    # a short follow-up ("那能拿到3.5%吗？") is read together with the customer's previous turn
    short = (len(message) < FOLLOW_UP_CHARS or topics.from_history) and last_customer
    query = arabic(f"{last_customer} {message}" if short else message)
    explicit = _explicit_products(req.product_codes, settings)
    explicit += [f for f in _facts_for(codes_in_text(query), settings) if f not in explicit]
    general = retriever(settings, "hybrid").search(query, k=4, segment=segment)
    implied = [p for p in _facts_for(implied_products(general), settings) if named_in(query, p)]
    # "成长精选怎么样" names the fund even when no passage of its sheet ranks in the segment
    named = [p for p in distinctly_named(query, settings) if p not in implied[:1]]
    # the short names product sheets declare (月月盈), and "它" in a follow-up (``topics.py``)
    by_name = [f for f in _facts_for(list(topics.products), settings) if f not in explicit]
    # every product the question names by name or alias ("养老理财和养老储蓄哪个好" names two)
    products = explicit or list(dict.fromkeys([*by_name, *implied[:1], *named]))[:2]
    ceiling = customer_ceiling(req.customer.risk_level, persona.risk_ceiling)
    above = any(not p.suits(ceiling) for p in products)
    scenarios = tuple(detect_scenarios(message, settings, ceiling, above, inbound))
    unlisted = not any(s.topic and not s.fallback for s in scenarios)
    needed: list[ProductFacts] = []
    main = next((s for s in scenarios if s.topic), None)
    wants_facts = main is not None and main.product_facts  # not a fraud warning or a complaint
    if not products and not any(s.quarantine or s.offers_alternatives for s in scenarios):
        # a question that names no product is answered from what it asks for (随时取 → 天天利); a
        # complaint or a churn reply names the card benefit or service asked about (半价券 → 周三半价日),
        # never a product it would be pushing (a fraud warning names no deposit either)
        needed = [p for p in _needed(topics, segment, ceiling, settings)
                  if wants_facts or p.product_type in NAMED_IN_ANY_REPLY]  # fmt: skip
        products = needed
    steer = any(s.offers_alternatives for s in scenarios) or above or any(p.expired for p in products)
    alternatives = _alternatives(persona, products, ceiling, settings) if steer else []
    scope = Scope(
        query=query, segment=segment, products=tuple(products), alternatives=tuple(alternatives),
        scenarios=scenarios, ceiling=ceiling, kind="reply", channel=req.channel,
        topic_passages=topics.passages if unlisted or needed else (), topic_query=topics.query_terms,
        implied=frozenset(p.code for p in needed), topic_scripts=topics.scripts,
        topical=bool(products) or not topics.empty,
    )  # fmt: skip
    sources, script = _number_sources(retrieve(scope, settings, general=general), scope)
    timings["retrieve"] = ms(time.perf_counter() - t0)
    brief = Brief(
        kind="reply",
        segment=segment,
        persona=persona,
        rm=rm,
        channel=req.channel,
        scenarios=scenarios,
        sources=sources,
        ceiling=ceiling,
        customer=req.customer,
        message=message,
        history=history,
        products=scope.products,
        alternatives=scope.alternatives,
        script=script,
        notes=tuple(inbound),
        topics=topics,
        deposit_names=_deposit_names(settings),
        investment_names=_investment_names(settings),
        needed=scope.implied,
    )
    brief = replace(brief, notes=(*inbound, *request_notes(brief)))
    return _vetted(brief, settings), timings


def prepare_post(
    segment: str, theme: str, post_brief: str, channel: str, settings: Settings
) -> tuple[Brief, dict[str, float]]:
    """The brief for post copy on a theme for a segment's groups or moments."""
    if not theme or not theme.strip():
        raise DraftingInputError("主题为空")
    if channel not in ("group", "moments"):
        raise DraftingInputError(f"发布渠道应为 group 或 moments，收到 {channel}")
    try:
        seg = load_segments(settings).require(segment).id
    except ValueError as exc:
        raise DraftingInputError(str(exc)) from exc
    persona = load_persona(seg, settings)
    timings: dict[str, float] = {"mask": 0.0, "inbound_check": 0.0}
    t0 = time.perf_counter()
    query = f"{theme} {post_brief}".strip()
    post_channel: Channel = "moments" if channel == "moments" else "group"
    scope = Scope(
        query=query, segment=seg, products=tuple(_facts_for(codes_in_text(query), settings)), alternatives=(),
        scenarios=tuple(detect_post_scenarios(query, settings)), ceiling=persona.risk_ceiling, kind="post",
        channel=post_channel,
    )  # fmt: skip
    sources, script = _number_sources(retrieve(scope, settings), scope)
    timings["retrieve"] = ms(time.perf_counter() - t0)
    brief = Brief(
        kind="post",
        segment=seg,
        persona=persona,
        rm=load_rm_profile(settings),
        channel=post_channel,
        scenarios=scope.scenarios,
        sources=sources,
        ceiling=persona.risk_ceiling,
        products=scope.products,
        script=script,
        theme=theme.strip(),
        post_brief=post_brief.strip(),
        deposit_names=_deposit_names(settings),
        investment_names=_investment_names(settings),
    )
    return _vetted(brief, settings), timings
