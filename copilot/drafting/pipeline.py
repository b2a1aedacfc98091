"""The drafting pipeline: mask → note injections → retrieve → generate → check → revise/regenerate/fall back.

One generator (``_run``) does the work and reports progress as events; ``draft_reply`` keeps only
the final draft, ``stream_reply`` forwards every event. Only the final, checked text is sendable:
streamed tokens are a preview.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from typing import Any

from copilot.config import Settings, get_settings
from copilot.domain import CheckContext, CustomerProfile, Draft, Finding, RMProfile, Turn, Verdict, risk_rank
from copilot.drafting.cleanup import clean_model_text, has_chinese, uses_citation_as_value
from copilot.drafting.compose import complete_model_text
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
from copilot.drafting.scenarios import Scenario, detect_post_scenarios, detect_scenarios, scenario_violations
from copilot.drafting.scripts import script_wording
from copilot.drafting.sources import (
    Retrieved,
    cite_supporting,
    common_bigrams,
    implied_products,
    retrieve,
    snippet,
)
from copilot.drafting.task import Source, WritingTask
from copilot.drafting.writers import GenerationStats, TemplateWriter, Writer, WriterError, select_writer
from copilot.text import cited_numbers, renumber_citations

MAX_REGENERATIONS = 1  # a blocked model draft is rewritten once with the findings, then templates
MAX_SOURCES = 5
SNIPPET_CHARS = 90
WRITER_LABELS = {"openai": "模型服务", "local": "本地模型", "template": "模板"}

log = logging.getLogger("copilot.drafting")
Event = tuple[str, Any]  # ("token", str) | ("retry", str) | ("fallback", str) | ("final", Draft)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- preparation ---------------------------------------------------------------------------------
def _validate_customer(customer: CustomerProfile) -> None:
    if customer.risk_level:
        try:
            risk_rank(customer.risk_level)
        except ValueError as exc:
            raise DraftingInputError(f"客户风险测评等级无效：{customer.risk_level}（应为 C1–C5）") from exc
        if customer.risk_level.strip().upper()[0] != "C":
            raise DraftingInputError(f"客户风险测评等级应为 C1–C5，收到 {customer.risk_level}")


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


def _alternatives(
    persona: Persona, products: list[ProductFacts], ceiling: str, settings: Settings
) -> list[ProductFacts]:
    taken = {p.code for p in products}
    out = [
        f
        for f in _facts_for(persona.suitable_products, settings)
        # somewhere to keep money (a deposit or a suitable wealth product), not a card or a service
        if f.code not in taken and not f.expired and f.suits(ceiling) and f.product_type not in ("card", "service")
    ]
    return out[:2]


def _number_sources(
    retrieved: Retrieved, products: list[ProductFacts], alternatives: list[ProductFacts], query: str
) -> tuple[list[Source], Source | None]:
    """Number the passages [1]..[n]: product sheets first (facts), the script, the sheets of the
    alternatives the draft names, then investor education and the rest."""
    ordered = []
    for p in products:
        ordered.extend(retrieved.product_hits.get(p.code, [])[:3])
    if retrieved.script_hit is not None:
        ordered.append(retrieved.script_hit)
    for a in alternatives:
        ordered.extend(retrieved.product_hits.get(a.code, [])[:1])
    ordered.extend(retrieved.education)
    ordered.extend(retrieved.general)
    sources: list[Source] = []
    seen: set[str] = set()
    script_source: Source | None = None
    for hit in ordered:
        if hit.chunk_id in seen or len(sources) >= MAX_SOURCES + len(products):
            continue
        seen.add(hit.chunk_id)
        src = Source(n=len(sources) + 1, hit=hit, snippet=snippet(hit.text, query, SNIPPET_CHARS))
        sources.append(src)
        if retrieved.script_hit is not None and hit.chunk_id == retrieved.script_hit.chunk_id:
            script_source = src
    return sources, script_source


def _inbound_notes(message: str, segment: str | None) -> list[Finding]:
    """Prompt-injection findings on the customer's message: recorded for the RM, never obeyed."""
    from copilot.compliance import check

    verdict = check(message, CheckContext(segment=segment, direction="inbound"))
    notes = []
    for f in verdict.findings:
        if f.category == "prompt_injection":
            notes.append(f.model_copy(update={"severity": "warn", "message": f"【客户消息】{f.message}"}))
    return notes


# --- generation, checking, fallback --------------------------------------------------------------
def _stream_text(writer: Writer, task: WritingTask, stats: GenerationStats) -> Generator[Event, None, str]:
    pieces: list[str] = []
    for piece in writer.write(task, stats):
        pieces.append(piece)
        yield ("token", piece)
    return "".join(pieces)


def _finalize(raw: str, writer: Writer, task: WritingTask, settings: Settings) -> str:
    if writer.name == "template":
        return raw.strip()
    limit = task.persona.max_chars
    labels = tuple(s.label for s in task.sources)
    text = clean_model_text(raw, n_sources=len(task.sources), max_chars=limit, echoes=labels)
    if len(text) < 6 or not has_chinese(text):
        raise WriterError("模型返回的内容无法使用（没有有效的中文正文）")
    if uses_citation_as_value(text):
        raise WriterError("模型返回的内容无法使用（用资料编号代替了具体信息）")
    return complete_model_text(text, task, settings)


def _context(task: WritingTask, product_codes: list[str]) -> CheckContext:
    risk = task.customer.risk_level if task.customer and task.customer.risk_level else None
    return CheckContext(
        segment=task.segment if task.segment != "default" else None,
        customer_risk=risk.strip().upper() if risk else None,
        product_codes=product_codes,
        channel=task.channel,
        direction="outbound",
    )


def offered_codes(task: WritingTask) -> list[str]:
    """The products a draft speaks for: suitable ones in scope and the alternatives it steers to.

    A product the draft steers the customer away from is not offered; its suitability findings
    are reported separately (``_request_notes``), so an honest "this is not for you" can pass.
    """
    codes = [p.code for p in task.products if p.suits(task.ceiling) and not p.expired]
    return codes + [a.code for a in task.alternatives if a.code not in codes]


def _request_notes(task: WritingTask) -> list[Finding]:
    """Compliance's own suitability findings on what the customer asked for, shown to the RM."""
    from copilot.compliance import check

    unsuitable = [p.code for p in task.unsuitable]
    if not unsuitable or not task.message:
        return []
    verdict = check(task.message, _context(task, unsuitable))
    return [
        f.model_copy(update={"severity": "warn", "message": f"【客户所问产品】{f.message}"})
        for f in verdict.findings
        if f.category == "suitability"
    ]


def _vet_script(task: WritingTask, settings: Settings) -> None:
    """Drop the chosen approved script if the current rule pack blocks its own wording.

    Scripts and rule packs are edited by different people; when they disagree (a script approved
    last year, a rule added this week), neither the template writer nor a model should build on
    that script. The checker is the later word.
    """
    if task.script is None or task.script_block is None:
        task.script, task.script_block = None, None
        return
    text = script_wording(task.script_block, task.rm, settings.prompts_dir)
    verdict = _check(text, task)
    if verdict.verdict == "block":
        log.info(
            "approved script %s blocked by the rule pack: %s",
            task.script.hit.doc_id,
            sorted({f.rule for f in verdict.findings if f.severity == "block"}),
        )
        task.script, task.script_block = None, None


def _check(text: str, task: WritingTask) -> Verdict:
    from copilot.compliance import check

    return check(text, _context(task, offered_codes(task)))


def _run(
    task: WritingTask,
    writer: Writer,
    downgrade: str,
    settings: Settings,
    timings: dict[str, float],
    t_start: float,
) -> Generator[Event, None, None]:
    """Generate and check until a draft passes or every fallback is spent.

    Order: the chosen model → (blocked) the same model with the findings as feedback → (blocked
    or failed) the template writer on the approved script → (blocked) the template writer without
    the script. The last result is returned either way; a blocked one is not sendable.
    """
    current = writer
    fallback_reason = downgrade
    retries_left = MAX_REGENERATIONS
    generate_s = check_s = 0.0
    model_stats = GenerationStats()
    first_token_s = 0.0
    while True:
        stats = GenerationStats()
        t0 = time.perf_counter()
        try:
            raw = yield from _stream_text(current, task, stats)
            text = _finalize(raw, current, task, settings)
        except WriterError as exc:
            generate_s += time.perf_counter() - t0
            if current.name == "template":
                raise
            label = WRITER_LABELS.get(current.name, current.name)
            fallback_reason = f"{label}不可用：{exc.reason}；已改用模板"
            yield ("fallback", fallback_reason)
            current, task.feedback = TemplateWriter(settings), []
            continue
        generate_s += time.perf_counter() - t0
        if current.name != "template":
            model_stats = stats
        first_token_s = first_token_s or stats.first_token_s
        if current.name != "template" and not cited_numbers(text):
            text = cite_supporting(text, task.sources, common_bigrams(settings))
        text, mapping = renumber_citations(text)
        t0 = time.perf_counter()
        verdict = _check(text, task)
        if current.name != "template":
            playbook = scenario_violations(text, task.scenarios)
            if playbook:
                verdict = Verdict(verdict="block", findings=[*verdict.findings, *playbook])
        check_s += time.perf_counter() - t0
        # Inputs were masked before generation, so the draft is safe to log at debug level.
        log.debug(
            "writer=%s verdict=%s raw=%r final=%r findings=%s",
            current.name,
            verdict.verdict,
            raw,
            text,
            [(f.rule, f.text) for f in verdict.findings],
        )
        if verdict.verdict != "block":
            break
        if any(f.category == "internal" for f in verdict.findings):
            break  # the checker itself failed: rewriting cannot help, and nothing may pass unchecked
        if current.name != "template":
            if retries_left > 0:
                retries_left -= 1
                task.attempt += 1
                task.feedback = [f for f in verdict.findings if f.severity == "block"]
                yield ("retry", "草稿未通过合规检查，正在按检查意见重写")
                continue
            fallback_reason = "模型草稿重写后仍未通过合规检查；已改用模板"
            yield ("fallback", fallback_reason)
            current, task.feedback = TemplateWriter(settings), []
            continue
        blocked = [f.text for f in verdict.findings if f.severity == "block" and f.text]
        if blocked and not task.avoid:
            # Leave out the sentences the rule pack objects to (a quoted passage is not approved
            # copy) and compose again; the facts that must be stated cannot be left out.
            task.avoid = blocked
            yield ("retry", "部分句子未通过合规检查，去掉后重新组织")
            continue
        if task.script is not None:
            # The script passed on its own but not with the facts around it: try plain wording.
            task.script, task.script_block = None, None
            yield ("retry", "审批话术加上产品信息后未通过合规检查，改用基础模板")
            continue
        if not task.plain:
            # A quoted passage did not pass with this customer's context: fixed wording and facts only.
            task.plain = True
            yield ("retry", "引用的资料未通过合规检查，改用基础模板")
            continue
        break

    final_text = verdict.revised if verdict.verdict == "revise" and verdict.revised else text
    citations = sorted(
        (s.citation().model_copy(update={"n": mapping[s.n]}) for s in task.sources if s.n in mapping),
        key=lambda c: c.n,
    )
    total = time.perf_counter() - t_start
    timings.update(
        generate=_ms(generate_s),
        first_token=_ms(first_token_s),
        check=_ms(check_s),
        total=_ms(total),
        overhead=_ms(total - generate_s),
        tokens_out=float(model_stats.completion_tokens),
        tokens_per_s=round(model_stats.tokens_per_s, 1),
    )
    draft = Draft(
        draft=final_text,
        citations=citations,
        verdict=verdict.verdict,
        findings=[*verdict.findings, *task.inbound_findings],
        writer=current.name,
        model=current.model,
        sendable=verdict.verdict in ("pass", "revise") and bool(final_text.strip()),
        fallback_reason=fallback_reason,
        timings=timings,
    )
    yield ("final", draft)


def _prepare_reply(req: DraftRequest, settings: Settings, timings: dict[str, float]) -> WritingTask:
    from copilot.compliance import mask_pii

    _validate_customer(req.customer)
    segment = req.customer.segment.value
    persona = load_persona(segment, settings)
    rm: RMProfile = req.rm or load_rm_profile(settings)

    t0 = time.perf_counter()
    message = mask_pii(req.message)
    history = [Turn(role=t.role, text=mask_pii(t.text)) for t in req.history]
    timings["mask"] = _ms(time.perf_counter() - t0)

    t0 = time.perf_counter()
    inbound = _inbound_notes(message, segment)
    timings["inbound_check"] = _ms(time.perf_counter() - t0)

    t0 = time.perf_counter()
    last_customer = next((t.text for t in reversed(history) if t.role == "customer"), "")
    # a short follow-up ("那能拿到3.5%吗？") is read together with the customer's previous turn
    query = message if len(message) >= 12 or not last_customer else f"{last_customer} {message}"
    explicit = _explicit_products(req.product_codes, settings)
    explicit += [f for f in _facts_for(codes_in_text(query), settings) if f not in explicit]
    from copilot.drafting.sources import retriever

    general = retriever(settings, "hybrid").search(query, k=4, segment=segment)
    implied = [p for p in _facts_for(implied_products(general), settings) if named_in(query, p)]
    # "成长精选怎么样" names the fund even when no passage of its sheet ranks in the segment
    named = [p for p in distinctly_named(query, settings) if p not in implied[:1]]
    products = explicit or (implied[:1] + named)[:2]
    ceiling = customer_ceiling(req.customer.risk_level, persona.risk_ceiling)
    above = any(not p.suits(ceiling) for p in products)
    scenarios: list[Scenario] = detect_scenarios(message, settings, ceiling, above, inbound)
    ids = {s.id for s in scenarios}
    alternatives = (
        _alternatives(persona, products, ceiling, settings)
        if ids & {"suitability"} or above or any(p.expired for p in products)
        else []
    )
    retrieved = retrieve(
        query, segment, products, alternatives, scenarios, ceiling, settings, general=general,
        kind="reply", channel=req.channel,
    )  # fmt: skip
    sources, script_source = _number_sources(retrieved, products, alternatives, query)
    timings["retrieve"] = _ms(time.perf_counter() - t0)
    task = WritingTask(
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
        products=products,
        alternatives=alternatives,
        script=script_source,
        script_block=retrieved.script_block if script_source else None,
        inbound_findings=inbound,
    )
    task.inbound_findings = [*inbound, *_request_notes(task)]
    _vet_script(task, settings)
    return task


def _events(req: DraftRequest, writer: str | None, settings: Settings | None) -> Iterator[Event]:
    t_start = time.perf_counter()
    settings = settings or get_settings()
    chosen, downgrade = select_writer(writer, settings)
    timings: dict[str, float] = {}
    task = _prepare_reply(req, settings, timings)
    if downgrade:
        yield ("fallback", downgrade)
    yield from _run(task, chosen, downgrade, settings, timings, t_start)


# --- public API ------------------------------------------------------------------------------------
def draft_reply(req: DraftRequest, writer: str | None = None, settings: Settings | None = None) -> Draft:
    """A checked reply draft. Raises DraftingInputError (or pydantic ValidationError) on bad input."""
    for kind, payload in _events(req, writer, settings):
        if kind == "final":
            return payload
    raise RuntimeError("drafting pipeline ended without a draft")  # pragma: no cover


def stream_reply(
    req: DraftRequest, writer: str | None = None, settings: Settings | None = None
) -> Iterator[dict[str, Any]]:
    """Events as dicts: {"type": "token", "text"}, {"type": "retry"|"fallback", "reason"},
    then {"type": "final", "draft": {...}}. Tokens are a preview; only the final draft is checked."""
    for kind, payload in _events(req, writer, settings):
        if kind == "token":
            yield {"type": "token", "text": payload}
        elif kind == "final":
            yield {"type": "final", "draft": payload.model_dump(mode="json")}
        else:
            yield {"type": kind, "reason": payload}


def compose_post(
    segment: str,
    theme: str,
    brief: str = "",
    writer: str | None = None,
    settings: Settings | None = None,
    channel: str = "group",
) -> Draft:
    """Post copy for a segment's groups (mass send) or moments on a theme, checked for that channel."""
    t_start = time.perf_counter()
    settings = settings or get_settings()
    if not theme or not theme.strip():
        raise DraftingInputError("主题为空")
    if channel not in ("group", "moments"):
        raise DraftingInputError(f"发布渠道应为 group 或 moments，收到 {channel}")
    from copilot.domain import Segment

    try:
        seg = Segment(segment).value
    except ValueError as exc:
        raise DraftingInputError(f"未知客群：{segment}（可选：{'、'.join(s.value for s in Segment)}）") from exc
    chosen, downgrade = select_writer(writer, settings)
    persona = load_persona(seg, settings)
    timings: dict[str, float] = {"mask": 0.0, "inbound_check": 0.0}
    t0 = time.perf_counter()
    query = f"{theme} {brief}".strip()
    products = _facts_for(codes_in_text(query), settings)
    scenarios = detect_post_scenarios(query, settings)
    retrieved = retrieve(
        query, seg, products, [], scenarios, persona.risk_ceiling, settings, kind="post", channel=channel
    )
    sources, script_source = _number_sources(retrieved, products, [], query)
    timings["retrieve"] = _ms(time.perf_counter() - t0)
    task = WritingTask(
        kind="post",
        segment=seg,
        persona=persona,
        rm=load_rm_profile(settings),
        channel=channel,  # type: ignore[arg-type]
        scenarios=scenarios,
        sources=sources,
        ceiling=persona.risk_ceiling,
        products=products,
        script=script_source,
        script_block=retrieved.script_block if script_source else None,
        theme=theme.strip(),
        brief=brief.strip(),
    )
    _vet_script(task, settings)
    final: Draft | None = None
    for kind, payload in _run(task, chosen, downgrade, settings, timings, t_start):
        if kind == "final":
            final = payload
    assert final is not None
    return final
