"""Rule packs: the YAML schema compliance staff write, and the loader that validates it.

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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.compliance.normalize import dense_form
from copilot.domain import CUSTOMER_RISK_LEVELS, Channel, Direction, Segment, Severity

# Category id -> the Chinese name shown to RMs and compliance officers.
CATEGORIES: dict[str, str] = {
    "guarantee": "承诺保本保收益",
    "expected_return": "预测收益或误用业绩比较基准",
    "deposit_confusion": "与存款混同",
    "past_performance": "过往业绩展示不规范",
    "superlative": "绝对化用语",
    "disparagement": "贬低同业",
    "inducement": "以赠品抽奖诱导购买",
    "regulator_endorsement": "以监管名义背书",
    "suitability": "适当性不匹配",
    "disclosure": "缺少风险提示",
    "pii": "个人信息",
    "prompt_injection": "指令注入",
    "internal": "检查内部错误",
}

_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class RulePackError(ValueError):
    """A rule pack that cannot be used; names the file and, where known, the rule id."""

    def __init__(self, path: Path | str, message: str, rule_id: str | None = None):
        self.path = str(path)
        self.rule_id = rule_id
        where = self.path + (f" [规则 {rule_id}]" if rule_id else "")
        super().__init__(f"{where}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    """What a rule looks for. Terms and patterns are matched in the normalised (dense) text."""

    terms: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)  # Python regexes over the dense text
    validator: str | None = None  # a named check in copilot/compliance/validators/
    params: dict[str, Any] = Field(default_factory=dict)
    pinyin: bool = True  # also match pinyin spellings of the terms (bao本, baoben)

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        for term in v:
            if not isinstance(term, str) or not dense_form(term):
                raise ValueError(f"词条 {term!r} 规范化后为空")
        return v


class Scope(_Strict):
    """Where a rule applies. ``None`` means everywhere."""

    directions: list[Direction] = Field(default_factory=lambda: ["outbound"])
    channels: list[Channel] | None = None
    segments: list[Segment] | None = None
    customer_risk: list[str] | None = None  # the rule applies only to these C-levels

    @field_validator("customer_risk")
    @classmethod
    def _levels(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [x for x in v if x not in CUSTOMER_RISK_LEVELS]
        if bad:
            raise ValueError(f"未知客户风险等级 {bad}，应为 C1–C5")
        return v


class Fix(_Strict):
    """An automatic fix. ``replace`` maps a term to its compliant wording ("*" = any hit)."""

    replace: dict[str, str] | None = None
    append: str | None = None
    mask: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Fix:
        kinds = sum([self.replace is not None, self.append is not None, self.mask])
        if kinds != 1:
            raise ValueError("fix 须且只能是 replace、append、mask 之一")
        return self


class Example(_Strict):
    text: str
    context: dict[str, Any] = Field(default_factory=dict)  # CheckContext fields


def _as_examples(v: Any) -> Any:
    if isinstance(v, list):
        return [{"text": x} if isinstance(x, str) else x for x in v]
    return v


class Examples(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    context: dict[str, Any] = Field(default_factory=dict)  # default context for every example below
    hit: list[Example] = Field(default_factory=list)
    pass_: list[Example] = Field(default_factory=list, alias="pass")

    @field_validator("hit", "pass_", mode="before")
    @classmethod
    def _plain_strings(cls, v: Any) -> Any:
        return _as_examples(v)


class Rule(_Strict):
    id: str
    category: str
    severity: Severity
    message: str = Field(min_length=1)  # to the RM, in Chinese
    citation: str = Field(min_length=1)
    suggestion: str = ""  # compliant wording to offer when the finding cannot be fixed automatically
    match: Match
    exceptions: list[str] = Field(default_factory=list)  # hits inside these spans are not violations
    # Regexes (over the dense text) for exceptions a word list cannot spell out: a hit inside a
    # match is not a violation ("以…指数近两年年化收益率为基础" is a benchmark's basis).
    exception_patterns: list[str] = Field(default_factory=list)
    skip_deposit_sentences: bool = False  # true statements about real deposits are not violations
    # Drop a hit whose sentence holds a word of these lexicons (e.g. advice against: 不建议).
    skip_sentences_with: list[str] = Field(default_factory=list)
    # Drop a hit in a clause that asks ("这个理财保本吗？"): echoing a question is not a claim.
    skip_questions: bool = False
    # Apply only when the message is about investing (lexicon investment_context_terms or a product).
    only_in_investment_context: bool = False
    # Drop a hit inside quotation marks when the message holds a word of these lexicons: an
    # anti-fraud post quotes the pitches it warns about ("“买保健品送鸡蛋”…防骗").
    skip_quotes_in_messages_with: list[str] = Field(default_factory=list)
    scope: Scope = Field(default_factory=Scope)
    fix: Fix | None = None
    examples: Examples

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _RULE_ID.match(v):
            raise ValueError("规则 id 只能用小写字母、数字和连字符")
        return v

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"未知类别 {v!r}，可选: {sorted(CATEGORIES)}")
        return v


class RulePack(_Strict):
    pack: str = Field(min_length=1)
    version: str = ""
    description: str = ""
    exceptions: list[str] = Field(default_factory=list)  # apply to every rule in the pack
    exception_patterns: list[str] = Field(default_factory=list)  # regexes, for every rule in the pack
    lexicons: dict[str, list[str]] = Field(default_factory=dict)  # shared word lists for validators
    rules: list[Rule] = Field(default_factory=list)
    path: str = ""  # set by the loader

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> str:
        return "" if v is None else str(v)


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
    from copilot.compliance.validators import VALIDATORS

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
