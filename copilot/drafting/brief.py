"""The frozen brief: everything decided before writing (persona, scenarios, products, sources, script)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from copilot.domain import Channel, Citation, CustomerProfile, Finding, Hit, RMProfile, Turn
from copilot.drafting.facts import ProductFacts
from copilot.drafting.personas import Persona
from copilot.drafting.scenarios import Scenario
from copilot.drafting.scripts import ScriptBlock
from copilot.drafting.topics import Topics


@dataclass(frozen=True)
class Source:
    """A numbered source: the retrieved passage and the short snippet the model is shown."""

    n: int
    hit: Hit
    snippet: str

    @property
    def label(self) -> str:
        """A short name for the prompt: compact titles keep a small model's prompt short."""
        title = re.sub(r"^(青禾理财|青禾代销|青禾银行|青禾)\s*", "", self.hit.title)
        title = title if len(title) <= 14 else title[:14] + "…"
        return f"{title}·{self.hit.heading}" if self.hit.heading else title

    def citation(self) -> Citation:
        return Citation(
            n=self.n,
            doc_id=self.hit.doc_id,
            chunk_id=self.hit.chunk_id,
            title=self.hit.title,
            heading=self.hit.heading,
            source_path=self.hit.source_path,
            version=self.hit.version,
            effective_date=self.hit.effective_date,
            text=self.hit.text,
        )


@dataclass(frozen=True)
class ChosenScript:
    """The approved script a draft builds on: its numbered 话术 passage and the reply chosen in it."""

    source: Source
    block: ScriptBlock


@dataclass(frozen=True)
class Brief:
    """What every writer reads and none changes. ``notes`` are findings shown to the RM with the
    draft (an injection in the customer's message, compliance on the product asked about)."""

    kind: Literal["reply", "post"]
    segment: str
    persona: Persona
    rm: RMProfile
    channel: Channel
    scenarios: tuple[Scenario, ...]
    sources: tuple[Source, ...]
    ceiling: str  # highest product risk level this customer/segment may be offered
    customer: CustomerProfile | None = None
    message: str = ""  # masked customer message (reply)
    history: tuple[Turn, ...] = ()  # masked
    products: tuple[ProductFacts, ...] = ()  # asked about / in scope
    alternatives: tuple[ProductFacts, ...] = ()  # suitable ones to steer to
    script: ChosenScript | None = None
    notes: tuple[Finding, ...] = ()
    topics: Topics = field(default_factory=Topics)  # what the question is about (products by name, needs in words)
    deposit_names: tuple[str, ...] = ()  # every name of a deposit in the catalogue (never a 理财产品)
    investment_names: tuple[str, ...] = ()  # every name of a wealth product or fund (never a deposit)
    # products in scope only because a need the customer expressed points to them (随时取 → 天天利):
    # named with what they are and the passage that meets the need, not presented with their benchmark
    needed: frozenset[str] = frozenset()
    theme: str = ""  # post
    post_brief: str = ""  # post: the operator's brief, written for customers

    @property
    def scenario_ids(self) -> list[str]:
        return [s.id for s in self.scenarios]

    @property
    def main(self) -> Scenario | None:
        """The main topic: the first scenario that is a topic (an injection is only a note)."""
        return next((s for s in self.scenarios if s.topic), None)

    @property
    def main_id(self) -> str:
        return self.main.id if self.main else ""

    @property
    def unlisted(self) -> bool:
        """No listed scenario fits: the question is answered from its topics (products, needs)."""
        return self.main is None or self.main.fallback

    @property
    def unsuitable(self) -> list[ProductFacts]:
        return [p for p in self.products if not p.suits(self.ceiling)]

    @property
    def states_facts(self) -> bool:
        """Whether the main topic calls for the exact facts of the products in scope."""
        return self.main.product_facts if self.main else True

    @property
    def steers(self) -> bool:
        """Whether the draft steers to the alternatives: a scenario offers them, or a product in
        scope is unsuitable or expired."""
        return any(s.offers_alternatives for s in self.scenarios) or any(
            p.expired or not p.suits(self.ceiling) for p in self.products
        )

    @property
    def needs_disclosure(self) -> bool:
        return any(p.is_investment for p in [*self.products, *self.alternatives]) or any(
            s.disclosure for s in self.scenarios
        )

    @property
    def quarantined(self) -> bool:
        """The customer's message goes to a model as quoted data, not as the turn to obey."""
        return any(s.quarantine for s in self.scenarios)

    def offered_codes(self) -> list[str]:
        """The products a draft speaks for: suitable ones in scope and the alternatives it steers to.

        A product the draft steers the customer away from is not offered; its suitability findings
        are notes (``checking.request_notes``), so an honest "this is not for you" can pass.
        """
        codes = [p.code for p in self.products if p.suits(self.ceiling) and not p.expired]
        return codes + [a.code for a in self.alternatives if a.code not in codes]

    def source_for_product(self, p: ProductFacts) -> int:
        """The number of the first source from this product's sheet (0: none)."""
        mine = [s for s in self.sources if s.hit.product_code.upper() == p.code]
        # its sheet first: a script written for the product is not where its facts are declared
        src = next((s for s in mine if s.hit.doc_type == "product"), mine[0] if mine else None)
        return src.n if src else 0
