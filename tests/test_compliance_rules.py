"""Rule-pack loading: the repo's packs load, and every kind of bad edit is a clear error that
names the file and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.compliance import CATEGORIES, RulePackError, load_rule_packs
from copilot.config import CHECKOUT

GOOD_RULE = """
  - id: demo-rule
    category: guarantee
    severity: block
    message: 不得承诺保本。
    citation: 《广告法》第二十五条第一款第（一）项
    match:
      terms: [保本]
    examples:
      hit: [这款保本]
      pass: [这款不保本]
"""


def write_pack(folder: Path, body: str, name: str = "demo.yaml", pack: str = "demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"pack: {pack}\nrules:\n{body}", encoding="utf-8")
    return path


def test_the_repository_packs_load_and_cover_every_category() -> None:
    packs = load_rule_packs(CHECKOUT / "guardrails")
    rules = [r for p in packs for r in p.rules]
    assert len({r.id for r in rules}) == len(rules)
    covered = {r.category for r in rules}
    assert covered == set(CATEGORIES) - {"internal"}
    for rule in rules:
        assert rule.citation and rule.message
        assert rule.severity != "revise" or rule.fix is not None


def test_a_valid_minimal_pack_loads(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_RULE)
    (pack,) = load_rule_packs(tmp_path)
    assert pack.rules[0].id == "demo-rule"
    assert pack.rules[0].examples.pass_[0].text == "这款不保本"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("severity: block", "severity: fatal"), "severity"),
        (("category: guarantee", "category: gossip"), "未知类别"),
        (("terms: [保本]", "patterns: ['保(本']"), "正则表达式"),
        (("terms: [保本]", "validator: no.such.check"), "未知校验器"),
        (("terms: [保本]", "terms: []"), "至少需要"),
        (("severity: block", "severity: revise"), "fix"),
        (("      pass: [这款不保本]\n", ""), "examples"),
        (("message: 不得承诺保本。", "message: 不得承诺保本。\n    colour: red"), "colour"),
        (("terms: [保本]", "terms: ['  ']"), "规范化后为空"),
        (("    match:", "    exception_patterns: ['不(保']\n    match:"), "正则表达式"),
    ],
)
def test_a_bad_rule_names_the_file_and_the_rule(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    old, new = edit
    assert old in GOOD_RULE
    path = write_pack(tmp_path, GOOD_RULE.replace(old, new))
    with pytest.raises(RulePackError) as info:
        load_rule_packs(tmp_path)
    assert info.value.path == str(path)
    assert info.value.rule_id == "demo-rule"
    assert "demo-rule" in str(info.value) and "demo.yaml" in str(info.value)
    assert expected in str(info.value)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [ {id: broken", encoding="utf-8")
    with pytest.raises(RulePackError) as info:
        load_rule_packs(tmp_path)
    assert "broken.yaml" in str(info.value) and "YAML" in str(info.value)


def test_duplicate_rule_ids_across_files_are_rejected(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_RULE, "a.yaml", pack="a")
    write_pack(tmp_path, GOOD_RULE, "b.yaml", pack="b")
    with pytest.raises(RulePackError, match="重复") as info:
        load_rule_packs(tmp_path)
    assert info.value.rule_id == "demo-rule" and "a.yaml" in str(info.value)


def test_a_rule_that_needs_a_missing_lexicon_is_rejected(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_RULE.replace("    match:", "    skip_deposit_sentences: true\n    match:"))
    with pytest.raises(RulePackError, match="deposit_terms"):
        load_rule_packs(tmp_path)


def test_revise_with_replacements_must_cover_every_term(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace("severity: block", "severity: revise").replace(
        "terms: [保本]", "terms: [最佳, 最优]\n    fix:\n      replace: {最佳: 优选}"
    )
    write_pack(tmp_path, rule.replace("    fix:\n", "").replace("      replace: {最佳: 优选}\n", "") + "")
    with pytest.raises(RulePackError, match="fix"):
        load_rule_packs(tmp_path)
    write_pack(tmp_path, rule)
    with pytest.raises(RulePackError, match="最优"):
        load_rule_packs(tmp_path)


def test_a_bad_pack_exception_pattern_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("pack: demo\nexception_patterns: ['不(保']\nrules:\n" + GOOD_RULE, encoding="utf-8")
    with pytest.raises(RulePackError, match="正则表达式") as info:
        load_rule_packs(tmp_path)
    assert info.value.path == str(path)


def test_a_quote_skip_that_needs_a_missing_lexicon_is_rejected(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace("    match:", "    skip_quotes_in_messages_with: [fraud_topic_terms]\n    match:")
    write_pack(tmp_path, rule)
    with pytest.raises(RulePackError, match="fraud_topic_terms"):
        load_rule_packs(tmp_path)


def test_an_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="没有规则包"):
        load_rule_packs(tmp_path)
    with pytest.raises(RulePackError, match="不存在"):
        load_rule_packs(tmp_path / "nowhere")


def test_files_starting_with_underscore_are_ignored(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_RULE)
    (tmp_path / "_draft.yaml").write_text("not: [valid", encoding="utf-8")
    assert [p.pack for p in load_rule_packs(tmp_path)] == ["demo"]
