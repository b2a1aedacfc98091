"""The speed shortcuts of the rules path never change what it finds.

* ``prefilter``: every match of a regex contains one of its required literals and starts with one
  of its prefix literals — on random regexes and texts, and on every rule regex over every example
  and labelled message.
* The rule set never skips a rule that has a hit in a rule's own hit examples.
* The fast dense view, fold table, PII patterns and word-list checks equal their plain definitions.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.compliance.checker import rule_set
from copilot.compliance.facts import Lexicons
from copilot.compliance.matcher import _matches_from
from copilot.compliance.normalize import _DENSE_RUN, dense_form, fold, fold_table, normalize
from copilot.compliance.prefilter import prefix_literals, required_literals, start_scanner
from copilot.compliance.recognizers import RECOGNIZERS
from copilot.config import CHECKOUT
from copilot.domain import CheckContext

RULES = CHECKOUT / "guardrails"
EVAL = CHECKOUT / "eval" / "compliance"


def _sound(pattern: str, text: str, literals: tuple | None = None) -> None:
    required, prefixes, starts = literals or (
        required_literals(pattern), prefix_literals(pattern), start_scanner(pattern)
    )
    if starts is not None:  # trying the regex only where a match can start finds the same matches
        expected = [(m.start(), m.end(), "") for m in re.finditer(pattern, text) if m.end() > m.start()]
        assert _matches_from(re.compile(pattern), starts, text) == expected, (pattern, text)
    for m in re.finditer(pattern, text):
        if m.end() == m.start():
            assert prefixes is None, (pattern, text)  # a prefix set implies non-empty matches
            continue
        found = m.group()
        if required is not None:
            assert any(lit in found for lit in required), (pattern, text, found, required)
        if prefixes is not None:
            assert any(found.startswith(lit) for lit in prefixes), (pattern, text, found, prefixes)


# --- the analysis itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "required", "prefix"),
    [
        ("保本", {"保本"}, {"保本"}),
        ("(理财|基金)收益", {"理财收益", "基金收益"}, {"理财收益", "基金收益"}),
        (r"\d+(\.\d+)?%", {"%"}, None),
        (r"(?=[就相])(?<!不)(就是|相当于)[^,]{0,4}存款", {"存款"}, {"就是", "相当于"}),
        ("(个|一个)?存款", {"存款"}, {"存款", "个存款", "一个存款"}),
        ("(?i)abc", None, None),
        ("a(?i:b)c", None, None),
        (".*", None, None),
        ("a?", None, None),
        ("[1-3]x", {"1x", "2x", "3x"}, {"1x", "2x", "3x"}),
        (r"(\w)\1", None, None),
    ],
)
def test_literals_of_simple_patterns(pattern: str, required: set | None, prefix: set | None) -> None:
    got = required_literals(pattern)
    assert (None if got is None else set(got)) == required
    got_prefix = prefix_literals(pattern)
    assert (None if got_prefix is None else set(got_prefix)) == prefix


_ATOMS = ["a", "b", "一", "二", "%", ".", r"\d", "[ab]", "[^a]", "[一二]"]


@st.composite
def regexes(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["atom", "atom", "seq", "alt", "repeat", "look"] if depth < 3 else ["atom"]))
    if kind == "atom":
        return draw(st.sampled_from(_ATOMS))
    if kind == "seq":
        return "".join(draw(st.lists(regexes(depth + 1), min_size=2, max_size=4)))
    if kind == "alt":
        return "(?:" + "|".join(draw(st.lists(regexes(depth + 1), min_size=2, max_size=3))) + ")"
    if kind == "repeat":
        inner = draw(regexes(depth + 1))
        return f"(?:{inner})" + draw(st.sampled_from(["?", "*", "+", "{2}", "{0,3}", "{1,2}", "??", "+?"]))
    look = draw(st.sampled_from(["(?={})", "(?!{})", "(?<=a)", "(?<!b)", "(?<![一二])", "(?=[ab一])"]))
    return look.format(draw(regexes(depth + 1))) if "{}" in look else look


@settings(max_examples=600, deadline=None)
@given(regexes(), st.lists(st.text(alphabet="ab一二%.3 ", max_size=14), min_size=1, max_size=4))
def test_literals_are_in_every_match_of_random_regexes(pattern: str, texts: list[str]) -> None:
    for text in texts:
        _sound(pattern, text)


def test_start_scanner_only_for_patterns_re_cannot_skip_through() -> None:
    assert start_scanner("(理财|基金)收益") is None  # re skips ahead on its own
    assert start_scanner("(?=[就相])(?<!不)(就是|相当于)") is not None
    assert start_scanner("(?:工行|(?:隔壁|对面)银行)") is not None
    assert start_scanner(r"(?=\d)\d+") is None  # no known first character


def _all_texts() -> list[str]:
    texts = []
    for path in [EVAL / "messages.jsonl", *sorted(EVAL.glob("paraphrases*.jsonl"))]:
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for compiled in rule_set(RULES).rules:
        texts += [e.text for e in compiled.rule.examples.hit + compiled.rule.examples.pass_]
    return texts


TEXTS = _all_texts()


def test_literals_are_in_every_match_of_every_rule_regex() -> None:
    rules = rule_set(RULES)
    patterns = {p for c in rules.rules for p in (*c.rule.match.patterns, *c.rule.exception_patterns)}
    patterns |= {p for pack in rules.packs for p in pack.exception_patterns}
    denses = [normalize(t).dense for t in TEXTS]
    for pattern in patterns:
        literals = (required_literals(pattern), prefix_literals(pattern), start_scanner(pattern))
        for dense in denses:
            _sound(pattern, dense, literals)


# --- the rule set never skips a rule that can hit -----------------------------------------------


def test_no_rule_is_skipped_on_its_own_hit_examples() -> None:
    rules = rule_set(RULES)
    for index, compiled in enumerate(rules.rules):
        rule = compiled.rule
        for example in rule.examples.hit:
            doc = normalize(example.text)
            scan = rules.scan(doc.dense)
            full = rules.rule_hits(index, doc, scan)
            scan_all = rules.scan(doc.dense)
            scan_all.literals = None  # "not looked for": every regex runs
            assert full == rules.rule_hits(index, doc, scan_all), (rule.id, example.text)
            if full or rule.match.validator:
                assert index in rules.candidates(scan), (rule.id, example.text)


def test_skipped_rules_would_have_found_nothing() -> None:
    rules = rule_set(RULES)
    for text in TEXTS:
        doc = normalize(text)
        scan = rules.scan(doc.dense)
        live = rules.candidates(scan)
        scan_all = rules.scan(doc.dense)
        scan_all.literals = None
        for index in range(len(rules.rules)):
            if index not in live:
                assert not rules.rule_hits(index, doc, scan_all), (rules.rules[index].rule.id, text)


# --- the fast views equal their definitions -----------------------------------------------------


def _dense_reference(light: str) -> tuple[str, list[int]]:
    parts, origin = [], []
    for m in _DENSE_RUN.finditer(light):
        parts.append(m.group())
        origin.extend(range(m.start(), m.end()))
    return "".join(parts), origin


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="保本2.8%. -*·“”（）🔥\u200b\n，。ＡＢ這", max_size=30))
def test_dense_view_equals_the_run_definition(text: str) -> None:
    doc = normalize(text)
    assert doc.light == "".join(fold_table().get(ord(c), c) for c in text)
    assert (doc.dense, doc.origin) == _dense_reference(doc.light)
    assert doc.dense == dense_form(text)


def test_dense_view_of_every_labelled_text() -> None:
    for text in TEXTS:
        doc = normalize(text)
        assert (doc.dense, doc.origin) == _dense_reference(fold(text))


_OLD_PII = {
    "resident_id": re.compile(
        r"(?<![0-9a-z])[1-9]\d{5}[ -]?(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"[ -]?\d{3}[0-9x](?![0-9a-z])"
    ),
    "bank_card": re.compile(r"(?<![0-9])[3-6]\d{3}(?:[ -]?\d){12,15}(?![0-9])"),
}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789x -a@.", min_size=10, max_size=40))
def test_pii_patterns_match_as_before(text: str) -> None:
    for name, old in _OLD_PII.items():
        assert [m.span() for m in RECOGNIZERS[name].pattern.finditer(text)] == [
            m.span() for m in old.finditer(text)
        ]
    for recognizer in RECOGNIZERS.values():
        if recognizer.needle is not None and recognizer.needle.search(text) is None:
            assert recognizer.pattern.search(text) is None


def test_word_list_check_equals_one_list_at_a_time() -> None:
    lexicons = Lexicons({"a_terms": ["保本", "稳赚"], "b_terms": ["不建议"], "empty": [], "x_patterns": ["r[3-5]"]})
    names = ["a_terms", "b_terms", "empty", "x_patterns"]
    for text in ["保本", "不建议买", "风险r4", "你好", "", "稳赚不建议"]:
        present = lexicons.names_in(text)
        for k in range(1, len(names) + 1):
            assert lexicons.any_of_in(names[:k], text, present) == any(lexicons.any_in(n, text) for n in names[:k])
    with pytest.raises(KeyError):
        lexicons.any_of_in(["nope"], "保本", frozenset())


def test_prechecks_only_skip_validators_that_find_nothing() -> None:
    from copilot.compliance.checker import _catalog
    from copilot.compliance.facts import MessageFacts
    from copilot.compliance.matcher import Hit
    from copilot.compliance.validators import PRECHECKS, VALIDATORS, RuleRun

    rules = rule_set(RULES)
    catalog = _catalog()
    risky = next(code for code, p in catalog.items() if p.risk_level in ("R4", "R5"))
    contexts = [CheckContext(), CheckContext(segment="pension", customer_risk="C1", product_codes=[risky])]
    skipped = 0
    for text in TEXTS:
        for ctx in contexts:
            doc = normalize(text)
            scan = rules.scan(doc.dense)
            for index, compiled in enumerate(rules.rules):
                name = compiled.rule.match.validator
                if name not in PRECHECKS:
                    continue
                facts = MessageFacts(doc, ctx, rules.lexicons, _catalog)
                if PRECHECKS[name](RuleRun(compiled.rule, facts, [])):
                    skipped += 1
                    spans = rules.rule_hits(index, doc, scan)
                    hits = [Hit(*doc.span(s, e), term=t) for s, e, t in spans]
                    assert VALIDATORS[name](RuleRun(compiled.rule, facts, hits)) == [], (compiled.rule.id, text)
    assert skipped > 100  # the prechecks were put to the test
