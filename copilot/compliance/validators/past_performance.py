"""Past performance shown without the warning and the period it covers (中国银行业协会
《理财产品过往业绩展示行为准则》): the warning can be appended automatically; the start and end
dates cannot be invented, so without them the finding keeps the rule's severity."""

from __future__ import annotations

import re

from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import Hit
from copilot.compliance.normalize import bare_form, bare_forms
from copilot.compliance.validators.base import RuleRun


def unqualified_past_performance(run: RuleRun) -> list[Hit]:
    doc = run.facts.doc
    figure = run.params.get("figure_pattern")
    if figure:  # performance is shown only where a figure (or a ranking) is given
        figure_re = re.compile(figure)
        run.hits = [h for h in run.hits if figure_re.search(doc.sentence_of(*doc.dense_span(h.start, h.end)))]
    if not run.hits:
        return []
    bare = doc.bare()
    warnings = run.param("warnings")
    if isinstance(warnings, list) and all(isinstance(w, str) for w in warnings):
        has_warning = any(w in bare for w in bare_forms(tuple(warnings)))
    else:
        has_warning = any(bare_form(w) in bare for w in warnings)
    has_period = any(re.search(p, doc.light) for p in run.param("period_patterns"))
    if has_warning and has_period:
        return []
    if has_period:
        fix = FixAction("append", text=run.rule.fix.append) if run.rule.fix and run.rule.fix.append else None
        message = run.params.get("message_without_warning", run.rule.message)
        return [Hit(h.start, h.end, h.term, severity="revise", message=message, fix=fix) for h in run.hits]
    return [Hit(h.start, h.end, h.term) for h in run.hits]


VALIDATORS = {"past_performance.unqualified": unqualified_past_performance}
