"""Named validators that rules refer to with ``match.validator``. Logic lives here, one concern per
file; the words and numbers they use come from the rule packs (``match.params``, ``lexicons``)."""

from __future__ import annotations

from copilot.compliance.validators import disclosure, past_performance, pii, suitability
from copilot.compliance.validators.base import Precheck, RuleRun, Validator

VALIDATORS: dict[str, Validator] = {
    **pii.VALIDATORS,
    **disclosure.VALIDATORS,
    **past_performance.VALIDATORS,
    **suitability.VALIDATORS,
}

# Validators that can tell, before the rule's hits are worked out, that they will find nothing.
PRECHECKS: dict[str, Precheck] = {**disclosure.PRECHECKS, **suitability.PRECHECKS}

__all__ = ["PRECHECKS", "VALIDATORS", "Precheck", "RuleRun", "Validator"]
