"""Every rule in every pack, checked against the examples written inside the rule itself
(``examples: {hit: [...], pass: [...]}``): a hit example must produce a finding of that rule, a
pass example must not. Compliance staff add cases where they add rules; this file picks them up."""

from __future__ import annotations

import pytest

from copilot.compliance import check, load_rule_packs
from copilot.config import CHECKOUT
from copilot.domain import CheckContext

RULES = CHECKOUT / "guardrails"
PACKS = load_rule_packs(RULES)
ALL_RULE_IDS = {rule.id for pack in PACKS for rule in pack.rules}


def cases(kind: str) -> list:
    out = []
    for pack in PACKS:
        for rule in pack.rules:
            examples = rule.examples.hit if kind == "hit" else rule.examples.pass_
            for n, example in enumerate(examples, 1):
                ctx = {**rule.examples.context, **example.context}
                out.append(pytest.param(rule.id, example.text, ctx, id=f"{rule.id}-{kind}{n}"))
    return out


HIT_CASES = cases("hit")
PASS_CASES = cases("pass")


@pytest.mark.parametrize(("rule_id", "text", "ctx"), HIT_CASES)
def test_rule_catches_its_hit_example(rule_id: str, text: str, ctx: dict) -> None:
    v = check(text, CheckContext(**ctx), rules_dir=RULES)
    found = [f for f in v.findings if f.rule == rule_id]
    assert found, f"{rule_id} missed: {text!r} -> {[(f.rule, f.text) for f in v.findings]}"
    assert all(f.rule != "internal-error" for f in v.findings)
    for f in found:
        assert text[f.start : f.end] == f.text


@pytest.mark.parametrize(("rule_id", "text", "ctx"), PASS_CASES)
def test_rule_lets_its_pass_example_through(rule_id: str, text: str, ctx: dict) -> None:
    v = check(text, CheckContext(**ctx), rules_dir=RULES)
    assert rule_id not in {f.rule for f in v.findings}, [(f.rule, f.text) for f in v.findings]
    assert all(f.rule != "internal-error" for f in v.findings)


def test_every_rule_has_both_kinds_of_example() -> None:
    hit_ids = {p.values[0] for p in HIT_CASES}
    pass_ids = {p.values[0] for p in PASS_CASES}
    assert hit_ids == ALL_RULE_IDS
    assert pass_ids == ALL_RULE_IDS
    assert len(ALL_RULE_IDS) >= 30
