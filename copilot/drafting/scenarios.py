"""What a customer message is about (prompts/scenarios.yaml), and what each scenario makes a draft do."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.config import Settings
from copilot.domain import Finding, risk_rank
from copilot.drafting.personas import PromptContentError


class Scenario(BaseModel):
    id: str
    label: str
    keywords: list[str] = Field(default_factory=list)
    guidance: str
    script_tags: list[str] = Field(default_factory=list)
    must_not: list[str] = Field(default_factory=list)
    requires_any: list[str] = Field(default_factory=list)  # context words the message must also have
    product_facts: bool = True  # main topic → state the exact facts of the products in scope
    posts: bool = False  # also recognised in a post's theme and brief
    keep: list[str] = Field(default_factory=list)  # a shortened script keeps sentences holding these
    education: str = ""  # words for the investor-education passage that answers this topic
    # What the scenario makes the drafting do (prompts/scenarios.yaml documents each field):
    topic: bool = True  # false: a note on the message (an injection), never its main topic
    fallback: bool = False  # the main topic when no other matches (general)
    inbound_category: str = ""  # also matched by the inbound check's findings of this category
    when_above_ceiling: bool = False  # matched whenever a product in scope is above the ceiling
    keywords_up_to_ceiling: str = ""  # keywords count only for a customer whose ceiling is at most this
    quarantine: bool = False  # a model gets the customer's message as quoted data, not as the turn
    offers_alternatives: bool = False  # the draft steers to suitable products
    disclosure: bool = False  # the draft carries the risk disclosure
    keep_a_denial: bool = False  # a shortened draft keeps at least one "not a promise" sentence
    education_if_no_product: bool = False  # look up the education topic only with no product in scope
    quote: Literal["none", "support", "answer"] = "none"  # template: quote the passage that answers
    script_fit: Literal["tags", "subject"] = "tags"  # a script fits by the scenario's tags, or by subject

    def matches(self, text: str) -> bool:
        low = text.lower()
        if not any(k.lower() in low for k in self.keywords):
            return False
        return not self.requires_any or any(w.lower() in low for w in self.requires_any)


class ScenarioBook(BaseModel):
    scenarios: list[Scenario]

    def get(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(scenario_id)

    @property
    def fallback(self) -> Scenario:
        return next(s for s in self.scenarios if s.fallback)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ScenarioBook:
    try:
        book = ScenarioBook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptContentError(f"{path}: 场景定义无效（{exc}）") from exc
    fallbacks = [s.id for s in book.scenarios if s.fallback]
    if len(fallbacks) != 1:
        raise PromptContentError(f"{path}: 应有且只有一个兜底场景（fallback: true），现有 {fallbacks}")
    return book


def scenario_book(settings: Settings) -> ScenarioBook:
    path = settings.prompts_dir / "scenarios.yaml"
    if not path.is_file():
        raise PromptContentError(f"{path}: 缺少场景定义文件")
    return _load(path, path.stat().st_mtime_ns)


def detect_scenarios(
    text: str,
    settings: Settings,
    ceiling: str,
    above_ceiling: bool,
    inbound_findings: list[Finding],
) -> list[Scenario]:
    """Every scenario the message touches, most important first; always ends with one main topic.

    Suitability is about the customer, not only the words (``when_above_ceiling``,
    ``keywords_up_to_ceiling``): it applies when a product in scope is above the customer's
    ceiling, or when risky products are asked about by a customer whose ceiling is R2 or lower
    (the pension segment's 定投 question).
    """
    book = scenario_book(settings)
    found: list[Scenario] = []
    for s in book.scenarios:
        if s.fallback:
            continue
        said = s.matches(text) and (
            not s.keywords_up_to_ceiling or risk_rank(ceiling) <= risk_rank(s.keywords_up_to_ceiling)
        )
        flagged = bool(s.inbound_category) and any(f.category == s.inbound_category for f in inbound_findings)
        if said or flagged or (s.when_above_ceiling and above_ceiling):
            found.append(s)
    if not any(s.topic for s in found):
        found.append(book.fallback)
    return found


def detect_post_scenarios(text: str, settings: Settings) -> list[Scenario]:
    """Scenarios a post's theme and brief touch (those marked ``posts``); ends with general."""
    book = scenario_book(settings)
    found = [s for s in book.scenarios if s.posts and not s.fallback and s.matches(text)]
    return [*found, book.fallback]


def scenario_violations(text: str, scenarios: Iterable[Scenario]) -> list[Finding]:
    """Block-level findings for phrases a scenario forbids ("帮您代领" when asked to claim a coupon).

    Applied to model drafts only: approved scripts and templates are written not to say them.
    """
    findings: list[Finding] = []
    for s in scenarios:
        for phrase in s.must_not:
            start = text.find(phrase)
            if start >= 0:
                findings.append(
                    Finding(
                        rule=f"scenario-{s.id}",
                        category="scenario",
                        severity="block",
                        start=start,
                        end=start + len(phrase),
                        text=phrase,
                        message=f"{s.label}：不能这样回复（经营手册禁止）。",
                    )
                )
    return findings
