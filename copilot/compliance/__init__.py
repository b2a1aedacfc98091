"""Compliance guardrails: rule packs in ``guardrails/*.yaml`` enforced on every message.

    from copilot.compliance import check, mask_pii
    verdict = check(text, CheckContext(segment="pension", customer_risk="C2"))

See docs/compliance.md for the rule format, the categories and measured figures.
"""

from __future__ import annotations

from copilot.compliance.checker import INTERNAL_ERROR, check, rule_set
from copilot.compliance.pii import find_pii, mask_pii
from copilot.compliance.rules import CATEGORIES, RulePack, RulePackError, load_rule_packs

__all__ = [
    "CATEGORIES",
    "INTERNAL_ERROR",
    "RulePack",
    "RulePackError",
    "check",
    "find_pii",
    "load_rule_packs",
    "mask_pii",
    "rule_set",
]
