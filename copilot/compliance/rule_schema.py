"""The rule-pack schema: the pydantic models a ``guardrails/*.yaml`` file is validated into (rules,
their match, scope, fix and examples) and the rule categories. Loading lives in ``rules``; the
matcher and the validators read these types without importing the loader."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
