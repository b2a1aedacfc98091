"""The one interface every writer implements, and the error that triggers the fallback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from copilot.drafting.attempts import Attempt
    from copilot.drafting.brief import Brief


class WriterError(RuntimeError):
    """A writer could not produce usable text. ``reason`` is Chinese and shown to the RM."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class GenerationStats:
    """Filled in by a writer while it streams; read by the pipeline for timings and the bench."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float = 0.0
    generate_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        # Decode speed: tokens after the first over the time after the first token arrived.
        decode_s = self.generate_s - self.first_token_s
        if self.completion_tokens > 1 and decode_s > 0:
            return (self.completion_tokens - 1) / decode_s
        return 0.0


class Writer(Protocol):
    name: str  # "openai" | "local" | "template"
    model: str  # model id as the server names it ("" for templates)

    def write(self, brief: Brief, attempt: Attempt, stats: GenerationStats) -> Iterator[str]:
        """Yield the text in pieces. Raises WriterError when no usable text can be produced."""
        ...
