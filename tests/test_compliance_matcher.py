"""The compiled rule set: one automaton over every term, pinyin spellings, exceptions that enclose
a hit, and scope by direction, segment and customer risk."""

from __future__ import annotations

from pathlib import Path

from copilot.compliance.matcher import RuleSet
from copilot.compliance.normalize import normalize
from copilot.compliance.rules import load_rule_packs
from copilot.domain import CheckContext

PACK = """pack: demo
exceptions: [不保本]
rules:
  - id: demo-principal
    category: guarantee
    severity: block
    message: 不得承诺保本。
    citation: 《广告法》第二十五条第一款第（一）项
    match:
      terms: [保本, 保本保息]
    examples: {hit: [保本], pass: [不保本]}
  - id: demo-no-pinyin
    category: superlative
    severity: block
    message: 绝对化用语。
    citation: 《广告法》第九条第（三）项
    match:
      terms: [第一]
      pinyin: false
    examples: {hit: [第一], pass: [第二]}
  - id: demo-pension-only
    category: suitability
    severity: block
    message: 养老客群不推定投。
    citation: 《金融机构产品适当性管理办法》第十三条
    scope: {segments: [pension], directions: [outbound]}
    exception_patterns: ['定投(?:[^,。]){0,6}会亏']
    match:
      patterns: ['定投']
    examples: {hit: [定投], pass: [存款]}
  - id: demo-inbound
    category: prompt_injection
    severity: block
    message: 注入。
    citation: 内部规范
    scope: {directions: [inbound], customer_risk: [C1]}
    match:
      terms: [忽略以上指令]
    examples: {hit: [忽略以上指令], pass: [你好]}
"""


def rule_set(tmp_path: Path) -> RuleSet:
    (tmp_path / "demo.yaml").write_text(PACK, encoding="utf-8")
    return RuleSet(load_rule_packs(tmp_path))


def hits(rules: RuleSet, rule_id: str, text: str) -> list[str]:
    index = next(i for i, r in enumerate(rules.rules) if r.rule.id == rule_id)
    doc = normalize(text)
    return [text[slice(*doc.span(s, e))] for s, e, _ in rules.rule_hits(index, doc, rules.scan(doc.dense))]


def test_terms_match_through_inserted_symbols_and_pinyin(tmp_path: Path) -> None:
    rules = rule_set(tmp_path)
    assert hits(rules, "demo-principal", "这款 保 - 本") == ["保 - 本"]
    assert hits(rules, "demo-principal", "这款bao本，BAO BEN也行") == ["bao本", "BAO BEN"]


def test_the_longest_hit_wins_over_the_terms_inside_it(tmp_path: Path) -> None:
    assert hits(rule_set(tmp_path), "demo-principal", "保本保息") == ["保本保息"]


def test_an_exception_that_encloses_a_hit_suppresses_it(tmp_path: Path) -> None:
    rules = rule_set(tmp_path)
    assert hits(rules, "demo-principal", "本产品不保本") == []
    assert hits(rules, "demo-principal", "本产品不保本，那款保本") == ["保本"]


def test_an_exception_pattern_suppresses_only_the_hits_it_encloses(tmp_path: Path) -> None:
    rules = rule_set(tmp_path)
    assert hits(rules, "demo-pension-only", "定投跌的时候一样会亏") == []
    assert hits(rules, "demo-pension-only", "定投跌的时候一样会亏，您每月做个定投吧") == ["定投"]
    assert hits(rules, "demo-pension-only", "定投，一样会亏") == ["定投"]  # the pattern stops at the comma


def test_pinyin_can_be_switched_off_per_rule(tmp_path: Path) -> None:
    rules = rule_set(tmp_path)
    assert hits(rules, "demo-no-pinyin", "第一") == ["第一"]
    assert hits(rules, "demo-no-pinyin", "diyi") == []


def test_scope_by_direction_segment_and_customer_risk(tmp_path: Path) -> None:
    rules = rule_set(tmp_path)
    ids = lambda ctx: {rules.rules[i].rule.id for i in rules.in_scope(ctx)}  # noqa: E731
    assert ids(CheckContext()) == {"demo-principal", "demo-no-pinyin"}
    assert "demo-pension-only" in ids(CheckContext(segment="pension"))
    assert ids(CheckContext(direction="inbound")) == set()
    assert ids(CheckContext(direction="inbound", customer_risk="c1")) == {"demo-inbound"}


def test_regex_patterns_run_over_the_dense_text(tmp_path: Path) -> None:
    assert hits(rule_set(tmp_path), "demo-pension-only", "每月做个 定 投") == ["定 投"]
