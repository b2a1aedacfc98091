"""Rule packs: the loader that validates the YAML files compliance staff write (``rule_schema``
holds the schema).

A rule pack is one YAML file under ``guardrails/``. The loader checks everything it can before a
single message is checked (schema, regexes, validator names, fixes, examples, duplicate ids) and
raises ``RulePackError`` naming the file and the rule, so a bad edit is caught at load time rather
than by a customer. See docs/compliance.md for how to write rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

# The schema is its own module so the matcher and the validators use its types without importing
# this loader, which imports the validators to check the names rules use: no import cycle.
from copilot.compliance.rule_schema import CATEGORIES as CATEGORIES
from copilot.compliance.rule_schema import Rule, RulePack
from copilot.compliance.validators import VALIDATORS


class RulePackError(ValueError):
    """A rule pack that cannot be used; names the file and, where known, the rule id."""

    def __init__(self, path: Path | str, message: str, rule_id: str | None = None):
        self.path = str(path)
        self.rule_id = rule_id
        where = self.path + (f" [规则 {rule_id}]" if rule_id else "")
        super().__init__(f"{where}: {message}")


def _rule_id_at(raw: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and isinstance(raw, dict):
        rules = raw.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            return str(rules[loc[1]].get("id") or f"#{loc[1] + 1}")
    return None


def _check_patterns(path: Path, patterns: list[str], rule_id: str | None = None) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RulePackError(path, f"正则表达式 {pattern!r} 无效: {exc}", rule_id) from exc


def _check_rule(path: Path, rule: Rule) -> None:
    m = rule.match
    if not (m.terms or m.patterns or m.validator):
        raise RulePackError(path, "match 至少需要 terms、patterns 或 validator 之一", rule.id)
    _check_patterns(path, m.patterns, rule.id)
    _check_patterns(path, rule.exception_patterns, rule.id)
    if m.validator is not None and m.validator not in VALIDATORS:
        raise RulePackError(path, f"未知校验器 {m.validator!r}，可选: {sorted(VALIDATORS)}", rule.id)
    if rule.severity == "revise":
        if rule.fix is None:
            raise RulePackError(path, "severity 为 revise 的规则必须给出自动修改方式 fix", rule.id)
        if rule.fix.replace is not None and "*" not in rule.fix.replace:
            missing = [t for t in m.terms if t not in rule.fix.replace]
            if missing or m.patterns:
                what = f"词条 {missing}" if missing else "正则命中"
                raise RulePackError(path, f'fix.replace 未覆盖{what}；可加 "*" 作为默认替换', rule.id)
    if not rule.examples.hit or not rule.examples.pass_:
        raise RulePackError(path, "每条规则至少需要一条 examples.hit 和一条 examples.pass", rule.id)


def load_rule_pack(path: Path) -> RulePack:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(path, f"无法读取: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulePackError(path, f"不是有效的 YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RulePackError(path, "顶层应为映射（pack、rules …）")
    try:
        pack = RulePack.model_validate({**raw, "path": str(path)})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(x) for x in loc)
        raise RulePackError(path, f"{field}: {err['msg']}", _rule_id_at(raw, loc)) from exc
    _check_patterns(path, pack.exception_patterns)
    for rule in pack.rules:
        _check_rule(path, rule)
    return pack


# Lexicons the checker itself reads; packs must define them when rules rely on them.
REQUIRED_LEXICONS = {
    "skip_deposit_sentences": ("deposit_terms", "investment_terms"),
    "only_in_investment_context": ("investment_context_terms",),
}


def _check_lexicons(packs: list[RulePack]) -> None:
    defined = {name for pack in packs for name in pack.lexicons}
    for pack in packs:
        for name, words in pack.lexicons.items():
            if name.endswith("_patterns"):
                for pattern in words:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        message = f"词表 {name} 中的正则 {pattern!r} 无效: {exc}"
                        raise RulePackError(pack.path, message) from exc
        for rule in pack.rules:
            needed = [*rule.skip_sentences_with, *rule.skip_quotes_in_messages_with]
            for flag, names in REQUIRED_LEXICONS.items():
                if getattr(rule, flag):
                    needed.extend(names)
            missing = [n for n in needed if n not in defined]
            if missing:
                raise RulePackError(pack.path, f"引用了未定义的词表 {missing}", rule.id)


def rule_pack_files(directory: Path) -> list[Path]:
    # Not ``is_file()``: a pack that cannot be read (a dangling link, a vanished mount) must fail
    # loading, not drop out of the set silently and take its rules with it.
    return sorted(
        p
        for p in directory.iterdir()
        if not p.is_dir() and p.suffix in {".yaml", ".yml"} and not p.name.startswith((".", "_"))
    )


def load_rule_packs(directory: Path | str | None = None) -> list[RulePack]:
    """Every rule pack in ``directory`` (default: settings.guardrails_dir), validated as a set."""
    if directory is None:
        from copilot.config import get_settings

        directory = get_settings().guardrails_dir
    directory = Path(directory)
    if not directory.is_dir():
        raise RulePackError(directory, "规则包目录不存在")
    files = rule_pack_files(directory)
    if not files:
        raise RulePackError(directory, "目录中没有规则包（*.yaml）")
    packs = [load_rule_pack(f) for f in files]
    _check_lexicons(packs)
    seen_rules: dict[str, str] = {}
    seen_packs: dict[str, str] = {}
    seen_lexicons: dict[str, str] = {}
    for pack in packs:
        if pack.pack in seen_packs:
            raise RulePackError(pack.path, f"规则包名 {pack.pack!r} 与 {seen_packs[pack.pack]} 重复")
        seen_packs[pack.pack] = pack.path
        for name in pack.lexicons:
            if name in seen_lexicons:
                raise RulePackError(pack.path, f"词表 {name!r} 与 {seen_lexicons[name]} 重复")
            seen_lexicons[name] = pack.path
        for rule in pack.rules:
            if rule.id in seen_rules:
                raise RulePackError(pack.path, f"规则 id 与 {seen_rules[rule.id]} 重复", rule.id)
            seen_rules[rule.id] = pack.path
    return packs
