"""The compliance checks drafting runs: on the customer's message, on the script, on every draft."""

from __future__ import annotations

import logging

from copilot.domain import CheckContext, Finding, Verdict
from copilot.drafting.brief import Brief
from copilot.drafting.grounding import product_type_findings, ungrounded_findings
from copilot.drafting.scenarios import scenario_violations

log = logging.getLogger("copilot.drafting")


def check_context(brief: Brief, product_codes: list[str]) -> CheckContext:
    risk = brief.customer.risk_level if brief.customer and brief.customer.risk_level else None
    return CheckContext(
        segment=brief.segment if brief.segment != "default" else None,
        customer_risk=risk,
        product_codes=product_codes,
        channel=brief.channel,
        direction="outbound",
    )


def check_draft(text: str, brief: Brief, *, model: bool = False) -> Verdict:
    """The rule packs on a draft, for the products it offers; then grounding: every figure must come
    from a source (``ungrounded-figure``) and a deposit is never called a 理财产品. A model draft is
    also held to the scenarios' ``must_not`` phrases (the playbook forbids 帮您代领 though no rule
    pack does). A grounding or playbook finding sends the draft to the next attempt (``attempts.py``):
    a rewrite without it, or the template writer, whose figures all come from the sources."""
    from copilot.compliance import check

    verdict = check(text, check_context(brief, brief.offered_codes()))
    if any(f.category == "internal" for f in verdict.findings):
        return verdict  # the checker could not run: nothing else can make it pass
    extra = [*grounding_findings(verdict.revised or text, brief)]
    if model:
        extra += scenario_violations(text, brief.scenarios)
    if extra:
        held = [f.model_copy(update={"severity": "block"}) for f in extra]
        verdict = Verdict(verdict="block", findings=[*verdict.findings, *held])
    return verdict


def grounding_findings(text: str, brief: Brief) -> list[Finding]:
    """Figures no source backs, and products called what they are not, in ``text`` (a draft of ``brief``)."""
    sheets = [
        " ".join([p.name, p.short_name, p.risk_level, p.benchmark, p.benchmark_basis, p.term])
        for p in (*brief.products, *brief.alternatives)
    ]
    # what the customer said, or for a post what operations wrote (its theme and brief are approved copy)
    asked = [brief.message, *(t.text for t in brief.history if t.role == "customer"), brief.theme, brief.post_brief]
    sources = [*(s.hit.text for s in brief.sources), *sheets, brief.persona.sign_off]
    found = ungrounded_findings(text, sources, " ".join(asked))
    return [*found, *product_type_findings(text, brief.deposit_names, brief.investment_names)]


def inbound_notes(message: str, segment: str | None) -> list[Finding]:
    """Prompt-injection findings on the customer's message: recorded for the RM, never obeyed."""
    from copilot.compliance import check

    verdict = check(message, CheckContext(segment=segment, direction="inbound"))
    return [
        f.model_copy(update={"severity": "warn", "message": f"【客户消息】{f.message}"})
        for f in verdict.findings
        if f.category == "prompt_injection"
    ]


def request_notes(brief: Brief) -> list[Finding]:
    """Compliance's own suitability findings on what the customer asked for, shown to the RM."""
    from copilot.compliance import check

    unsuitable = [p.code for p in brief.unsuitable]
    if not unsuitable or not brief.message:
        return []
    verdict = check(brief.message, check_context(brief, unsuitable))
    return [
        f.model_copy(update={"severity": "warn", "message": f"【客户所问产品】{f.message}"})
        for f in verdict.findings
        if f.category == "suitability"
    ]


def script_passes(brief: Brief, wording: str) -> bool:
    """Whether the current rule pack lets the chosen approved script's own wording through.

    Scripts and rule packs are edited by different people; when they disagree (a script approved
    last year, a rule added this week), neither the template writer nor a model should build on
    that script. The checker is the later word.
    """
    verdict = check_draft(wording, brief)
    if verdict.verdict == "block" and brief.script is not None:
        log.info(
            "approved script %s blocked by the rule pack: %s",
            brief.script.source.hit.doc_id,
            sorted({f.rule for f in verdict.findings if f.severity == "block"}),
        )
    return verdict.verdict != "block"
