"""The risk disclosure an investment message must carry ("理财非存款、产品有风险、投资须谨慎").

Triggered by the rule's terms (理财, 基金, 净值 …) or by a non-deposit product in the context or
named by code; satisfied by any of ``params.required`` whatever punctuation separates its parts.
"""

from __future__ import annotations

from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import Hit
from copilot.compliance.normalize import bare_form
from copilot.compliance.validators.base import RuleRun


def missing_disclosure(run: RuleRun) -> list[Hit]:
    facts = run.facts
    # A product named only to advise against it ("不太匹配，不建议购买") is not being marketed.
    against = run.rule.skip_sentences_with
    products = [r for r in facts.investment_products if not facts.sentence_mentions(against, r.start, r.end)]
    if not run.hits and not products:
        return []
    bare = facts.doc.bare()
    if any(bare_form(phrase) in bare for phrase in run.param("required")):
        return []
    ref = next((r for r in products if r.end > r.start), None)
    start, end = run.anchor(ref.start, ref.end) if ref else run.anchor()
    fix = FixAction("append", text=run.rule.fix.append) if run.rule.fix and run.rule.fix.append else None
    return [Hit(start, end, fix=fix)]


VALIDATORS = {"disclosure.missing": missing_disclosure}
