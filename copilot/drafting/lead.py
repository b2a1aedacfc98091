"""The opening of an embedded-model draft, written before the model starts: greeting + exact facts.

The 1.5B model writes ~13 tokens/s on two cores, so an RM would wait seconds for the first word
and longer for the facts the pipeline appends anyway. Instead the draft opens with what needs no
model — the persona's greeting, the product facts rendered from the sheets
(prompts/templates/facts_footer.md.j2, without the disclosure, which stays last) and every other
product in scope named with what it is (prompts/templates/lead.md.j2) — streamed at once. The
model is told (system.md.j2) that the opening is written and writes only the answer to the
customer's point; ``finish.finish_model_draft`` joins the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from copilot.config import Settings
from copilot.drafting.attempts import Attempt
from copilot.drafting.brief import Brief
from copilot.drafting.obligations import fact_context
from copilot.drafting.prompting import render


@dataclass(frozen=True)
class Lead:
    greeting: str  # "阿姨，"
    facts: str = ""  # exact statements from the product sheets, cited; "" when none apply

    @property
    def text(self) -> str:
        return self.greeting + self.facts


def lead_for(brief: Brief, attempt: Attempt, settings: Settings) -> Lead | None:
    """The opening for this attempt, or None: only the embedded model's replies get one (a
    hosted model is fast enough to write its own; posts open with their theme)."""
    if attempt.writer != "local" or not settings.local_model_lead or brief.kind != "reply":
        return None
    greeting = brief.persona.greeting(brief.customer.age_band if brief.customer else None)
    _, missing = fact_context(brief, "")
    stated = {
        p.code for p, _ in (*missing.investments, *missing.unsuitable, *missing.expired, *missing.alternatives)
    }
    named = [
        (p, brief.source_for_product(p))
        for p in brief.products
        if p.code not in stated and not p.expired and p.suits(brief.ceiling)
    ]
    footer = replace(missing, disclose=False).footer(brief, settings)
    facts = render("lead.md.j2", settings, footer=footer, named=named)
    return Lead(f"{greeting}，", re.sub(r"\s*\n\s*", "", facts))


def without_greeting(text: str, lead: Lead) -> str:
    """The model's continuation without a greeting it wrote again ("您好，" after "阿姨，")."""
    greeting = re.escape(lead.greeting.rstrip("，"))
    return re.sub(rf"^\s*(?:(?:{greeting}|您好|你好)[，,！!。\s]*)+", "", text)
