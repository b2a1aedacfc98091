"""Drafting: persona-appropriate, cited, compliance-checked replies and post copy.

    from copilot.drafting import DraftRequest, draft_reply, stream_reply, compose_post

Writers: "openai" (a configured OpenAI-compatible endpoint), "local" (the embedded model, served
by xllamacpp on 127.0.0.1 and driven through the same client), "template" (approved scripts plus
exact product facts). See docs/drafting.md.
"""

from copilot.drafting.pipeline import compose_post, draft_reply, stream_reply
from copilot.drafting.request import DraftingInputError, DraftRequest

__all__ = ["DraftRequest", "DraftingInputError", "compose_post", "draft_reply", "stream_reply"]
