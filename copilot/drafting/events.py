"""What the pipeline reports while it drafts: tokens, a retry or fallback, then the final draft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from copilot.domain import Draft


@dataclass(frozen=True)
class Token:
    """A piece of the writer's text: a preview, never checked. ``lead``: the opening written for
    the embedded model before it starts (greeting and exact facts, ``lead.py``)."""

    text: str
    lead: bool = False


@dataclass(frozen=True)
class StartOver:
    """The text starts over (the client discards its preview); ``reason`` is Chinese."""

    reason: str


class Retry(StartOver):
    """The draft is being rewritten after compliance findings."""


class Fallback(StartOver):
    """Another writer (the template writer) takes over."""


@dataclass(frozen=True)
class Final:
    """The checked draft; the only thing that may be sent."""

    draft: Draft


Event = Token | Retry | Fallback | Final


def event_name(event: Event) -> str:
    """The event's wire name (SSE event, ``--stream --json`` "type")."""
    return type(event).__name__.lower()


def event_json(event: Event) -> dict[str, Any]:
    """One event as JSON for a line-per-event stream: {"type": ..., "text" | "reason" | "draft"}."""
    if isinstance(event, Token):
        return {"type": "token", "text": event.text}
    if isinstance(event, Final):
        return {"type": "final", "draft": event.draft.model_dump(mode="json")}
    return {"type": event_name(event), "reason": event.reason}
