"""The one contract every named validator follows (after llm-guard's scanners): it receives the
rule, the facts about the message and the rule's own term/regex hits, and returns the hits that are
violations, each possibly with a fix, a sharper message or a different severity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copilot.compliance.facts import MessageFacts
from copilot.compliance.matcher import Hit
from copilot.compliance.rule_schema import Rule


@dataclass(slots=True)
class RuleRun:
    rule: Rule
    facts: MessageFacts
    hits: list[Hit]  # the rule's term and regex hits (exceptions already applied)

    @property
    def params(self) -> dict[str, Any]:
        return self.rule.match.params

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise KeyError(f"规则 {self.rule.id} 缺少参数 match.params.{name}")
        return self.params[name]

    def anchor(self, start: int = 0, end: int = 0) -> tuple[int, int]:
        """Where to point a message-level finding: the given span, else the first hit, else 0-0."""
        if end > start:
            return start, end
        if self.hits:
            return self.hits[0].start, self.hits[0].end
        return 0, 0


Validator = Callable[[RuleRun], list[Hit]]


# A precheck answers, before the rule's hits are worked out (the costly part for rules whose terms
# are everyday words such as 理财), whether the validator would return nothing whatever those hits
# are. It must only say True when that is certain; False means "run the validator as usual".
Precheck = Callable[[RuleRun], bool]


def hits_only_anchor(validator: Validator) -> Precheck:
    """The precheck of a validator whose findings do not depend on the rule's hits, which at most
    anchor a finding (``RuleRun.anchor``): with no hits it finds nothing iff it finds nothing."""

    def precheck(run: RuleRun) -> bool:
        return not validator(RuleRun(run.rule, run.facts, []))

    return precheck
