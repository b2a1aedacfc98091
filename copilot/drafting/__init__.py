"""Drafting: persona-appropriate, cited, compliance-checked replies and post copy.

    from copilot.drafting import DraftRequest, draft_reply, stream_reply, compose_post
    ensure_ready(settings)   # raises DraftingUnavailable when the knowledge index is empty
    for event in stream_reply(req): ...   # Token | Retry | Fallback, then one Final(draft)

Writers: "openai" (a configured OpenAI-compatible endpoint), "local" (the embedded model, served
by xllamacpp on 127.0.0.1 and driven through the same client), "template" (approved scripts plus
exact product facts). See docs/drafting.md.

Names are imported on first use so that `copilot --help` does not load the model client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.drafting.events import Event, Fallback, Final, Retry, Token
    from copilot.drafting.pipeline import compose_post, draft_reply, stream_reply
    from copilot.drafting.request import DraftingInputError, DraftingUnavailable, DraftRequest
    from copilot.drafting.retrievers import ensure_ready

__all__ = [
    "DraftRequest",
    "DraftingInputError",
    "DraftingUnavailable",
    "Event",
    "Fallback",
    "Final",
    "Retry",
    "Token",
    "compose_post",
    "draft_reply",
    "ensure_ready",
    "stream_reply",
]

_WHERE = {
    "Event": "copilot.drafting.events",
    "Fallback": "copilot.drafting.events",
    "Final": "copilot.drafting.events",
    "Retry": "copilot.drafting.events",
    "Token": "copilot.drafting.events",
    "DraftRequest": "copilot.drafting.request",
    "DraftingInputError": "copilot.drafting.request",
    "DraftingUnavailable": "copilot.drafting.request",
    "compose_post": "copilot.drafting.pipeline",
    "draft_reply": "copilot.drafting.pipeline",
    "ensure_ready": "copilot.drafting.retrievers",
    "stream_reply": "copilot.drafting.pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'copilot.drafting' has no attribute {name!r}")
