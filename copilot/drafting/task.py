"""What a writer is given: everything decided before generation, in one object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from copilot.domain import Channel, Citation, CustomerProfile, Finding, Hit, RMProfile, Turn
from copilot.drafting.facts import ProductFacts
from copilot.drafting.personas import Persona
from copilot.drafting.scenarios import Scenario
from copilot.drafting.scripts import ScriptBlock


@dataclass
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


@dataclass
class WritingTask:
    kind: Literal["reply", "post"]
    segment: str
    persona: Persona
    rm: RMProfile
    channel: Channel
    scenarios: list[Scenario]
    sources: list[Source]
    ceiling: str  # highest product risk level this customer/segment may be offered
    customer: CustomerProfile | None = None
    message: str = ""  # masked customer message (reply)
    history: list[Turn] = field(default_factory=list)  # masked
    products: list[ProductFacts] = field(default_factory=list)  # asked about / in scope
    alternatives: list[ProductFacts] = field(default_factory=list)  # suitable ones to steer to
    script: Source | None = None  # the approved script the reply builds on (its 话术 passage)
    script_block: ScriptBlock | None = None  # the reply within that script, chosen for channel and situation
    inbound_findings: list[Finding] = field(default_factory=list)
    feedback: list[Finding] = field(default_factory=list)  # from a blocked attempt
    attempt: int = 0  # 0 = first draft; a rewrite samples differently
    plain: bool = False  # template writer: fixed wording and exact facts only (after a blocked draft)
    avoid: list[str] = field(default_factory=list)  # template writer: leave out sentences holding these
    theme: str = ""  # post
    brief: str = ""  # post

    @property
    def scenario_ids(self) -> list[str]:
        return [s.id for s in self.scenarios]

    def source_for(self, doc_id: str) -> Source | None:
        return next((s for s in self.sources if s.hit.doc_id == doc_id), None)

    @property
    def unsuitable(self) -> list[ProductFacts]:
        return [p for p in self.products if not p.suits(self.ceiling)]
