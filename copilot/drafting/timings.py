"""Where a draft's milliseconds go: the brief's own steps, then writing and checking across attempts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from copilot.drafting.writers.base import GenerationStats


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


@dataclass
class Clock:
    """Time spent generating and checking, across the attempts of one run (local to that run)."""

    start: float
    timings: dict[str, float]  # the brief's own steps (mask, inbound_check, retrieve)
    generate_s: float = 0.0
    check_s: float = 0.0
    first_token_s: float = 0.0
    model_stats: GenerationStats = field(default_factory=GenerationStats)

    def report(self) -> dict[str, float]:
        total = time.perf_counter() - self.start
        return {
            **self.timings,
            "generate": ms(self.generate_s),
            "first_token": ms(self.first_token_s),
            "check": ms(self.check_s),
            "total": ms(total),
            "overhead": ms(total - self.generate_s),
            "tokens_out": float(self.model_stats.completion_tokens),
            "tokens_per_s": round(self.model_stats.tokens_per_s, 1),
        }
