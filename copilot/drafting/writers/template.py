"""The deterministic writer: approved scripts plus exact product facts. Exact, fast, always there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from copilot.config import Settings
from copilot.drafting.writers.base import GenerationStats

if TYPE_CHECKING:
    from copilot.drafting.attempts import Attempt
    from copilot.drafting.brief import Brief


class TemplateWriter:
    name = "template"
    model = ""

    def __init__(self, settings: Settings):
        self.settings = settings

    def write(self, brief: Brief, attempt: Attempt, stats: GenerationStats) -> Iterator[str]:
        from copilot.drafting.compose import compose_post, compose_reply

        t0 = time.perf_counter()
        compose = compose_post if brief.kind == "post" else compose_reply
        text = compose(brief, attempt, self.settings)
        stats.generate_s = stats.first_token_s = time.perf_counter() - t0
        yield text
