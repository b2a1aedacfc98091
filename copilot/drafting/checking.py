"""The compliance checks drafting runs: on the customer's message, on the script, on every draft."""

from __future__ import annotations

import logging

from copilot.domain import CheckContext, Finding, Verdict
from copilot.drafting.brief import Brief
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
    """The rule packs on a draft, for the products it offers; a model draft is also held to the
    scenarios' ``must_not`` phrases (the playbook forbids 帮您代领 though no rule pack does)."""
    from copilot.compliance import check

    verdict = check(text, check_context(brief, brief.offered_codes()))
    if model:
        playbook = scenario_violations(text, brief.scenarios)
        if playbook:
            verdict = Verdict(verdict="block", findings=[*verdict.findings, *playbook])
    return verdict


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
