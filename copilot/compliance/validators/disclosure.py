"""The risk disclosure an investment message must carry ("理财非存款、产品有风险、投资须谨慎").

Triggered by the rule's terms (理财, 基金, 净值 …) or by a non-deposit product in the context or
named by code; satisfied by any of ``params.required`` whatever punctuation separates its parts.
"""

from __future__ import annotations

from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import Hit
from copilot.compliance.normalize import bare_form, bare_forms
from copilot.compliance.validators.base import RuleRun


def _has_disclosure(run: RuleRun, required) -> bool:
    bare = run.facts.doc.bare()
    if isinstance(required, list) and all(isinstance(p, str) for p in required):
        return any(phrase in bare for phrase in bare_forms(tuple(required)))
    return any(bare_form(phrase) in bare for phrase in required)


def missing_disclosure(run: RuleRun) -> list[Hit]:
    facts = run.facts
    # A product named only to advise against it ("不太匹配，不建议购买") is not being marketed.
    against = run.rule.skip_sentences_with
    products = [r for r in facts.investment_products if not facts.sentence_mentions(against, r.start, r.end)]
    if not run.hits and not products:
        return []
    if _has_disclosure(run, run.param("required")):
        return []
    ref = next((r for r in products if r.end > r.start), None)
    start, end = run.anchor(ref.start, ref.end) if ref else run.anchor()
    fix = FixAction("append", text=run.rule.fix.append) if run.rule.fix and run.rule.fix.append else None
    return [Hit(start, end, fix=fix)]


def disclosure_present(run: RuleRun) -> bool:
    """Precheck: a message that carries the disclosure misses nothing, whatever the rule's hits.
    (The products are looked up first, as the validator does, so a catalogue that fails to load
    fails this rule the same way; the sentence checks it does next cannot fail: the word lists
    they name are checked when the packs load.)"""
    run.facts.investment_products  # noqa: B018 - looked up for its failure, see above
    required = run.params.get("required")
    if not isinstance(required, list) or not all(isinstance(p, str) for p in required):
        return False  # let the validator itself report a missing or malformed parameter
    return _has_disclosure(run, required)


VALIDATORS = {"disclosure.missing": missing_disclosure}
PRECHECKS = {"disclosure.missing": disclosure_present}
