"""Compliance guardrails: rule packs in ``guardrails/*.yaml`` enforced on every message.

    from copilot.compliance import check, mask_pii
    verdict = check(text, CheckContext(segment="pension", customer_risk="C2"))

See docs/compliance.md for the rule format, the categories and measured figures. Names are
imported on first use, so ``copilot --help`` does not pay for the matcher and the catalogue.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "check": "copilot.compliance.checker",
    "rule_set": "copilot.compliance.checker",
    "INTERNAL_ERROR": "copilot.compliance.checker",
    "fail_closed": "copilot.compliance.checker",
    "find_pii": "copilot.compliance.pii",
    "mask_pii": "copilot.compliance.pii",
    "CATEGORIES": "copilot.compliance.rules",
    "RulePack": "copilot.compliance.rules",
    "RulePackError": "copilot.compliance.rules",
    "load_rule_packs": "copilot.compliance.rules",
}

if TYPE_CHECKING:
    from copilot.compliance.checker import INTERNAL_ERROR, check, fail_closed, rule_set
    from copilot.compliance.pii import find_pii, mask_pii
    from copilot.compliance.rules import CATEGORIES, RulePack, RulePackError, load_rule_packs


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "INTERNAL_ERROR",
    "RulePack",
    "RulePackError",
    "check",
    "fail_closed",
    "find_pii",
    "load_rule_packs",
    "mask_pii",
    "rule_set",
]
