"""PII validators: one per recognizer; each finding carries the mask as its fix."""

from __future__ import annotations

from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import Hit
from copilot.compliance.recognizers import RECOGNIZERS
from copilot.compliance.validators.base import RuleRun, Validator


def pii_validator(kind: str) -> Validator:
    def validate(run: RuleRun) -> list[Hit]:
        return [
            Hit(
                s.start,
                s.end,
                suggestion=s.masked,
                fix=FixAction("mask", s.start, s.end, s.masked),
            )
            for s in run.facts.pii
            if s.kind == kind
        ]

    return validate


VALIDATORS: dict[str, Validator] = {f"pii.{name}": pii_validator(name) for name in RECOGNIZERS}
