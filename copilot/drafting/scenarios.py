"""What a customer message is about (prompts/scenarios.yaml), so both writers answer the right thing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ScenarioBook:
    try:
        book = ScenarioBook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptContentError(f"{path}: 场景定义无效（{exc}）") from exc
    ids = {s.id for s in book.scenarios}
    missing = {"injection", "suitability", "guarantee", "complaint", "churn", "general"} - ids
    if missing:
        raise PromptContentError(f"{path}: 缺少场景 {sorted(missing)}")
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

    Suitability is about the customer, not only the words: it applies when a product in scope is
    above the customer's ceiling, or when risky products are asked about by a customer whose
    ceiling is R2 or lower (the pension segment's 定投 question).
    """
    book = scenario_book(settings)
    found: list[Scenario] = []
    for s in book.scenarios:
        if s.id == "general":
            continue
        if s.id == "injection":
            hit = s.matches(text) or any(f.category == "prompt_injection" for f in inbound_findings)
        elif s.id == "suitability":
            hit = above_ceiling or (s.matches(text) and risk_rank(ceiling) <= 2)
        else:
            hit = s.matches(text)
        if hit:
            found.append(s)
    if not any(s.id != "injection" for s in found):
        found.append(book.get("general"))
    return found


def detect_post_scenarios(text: str, settings: Settings) -> list[Scenario]:
    """Scenarios a post's theme and brief touch (those marked ``posts``); ends with general."""
    book = scenario_book(settings)
    found = [s for s in book.scenarios if s.posts and s.id != "general" and s.matches(text)]
    return [*found, book.get("general")]


def scenario_violations(text: str, scenarios: list[Scenario]) -> list[Finding]:
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
