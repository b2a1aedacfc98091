"""Post copy for a plan: ``compose_post`` once per distinct (theme, brief, channel), failing closed."""

from __future__ import annotations

import logging
from typing import Any

from copilot.domain import Finding

log = logging.getLogger(__name__)


def internal_block(message: str) -> Finding:
    return Finding(
        rule="scheduling.compose_failed",
        category="internal",
        severity="block",
        start=0,
        end=0,
        text="",
        message=message,
    )


class Composer:
    """compose_post with a per-plan cache: one call per distinct (theme, brief, channel)."""

    def __init__(self, segment: str, writer: str | None, settings: Any):
        self.segment = segment
        self.writer = writer
        self.settings = settings
        self.cache: dict[tuple[str, str], Any] = {}
        try:
            from copilot.drafting import compose_post
        except ImportError as exc:  # fail closed: every post blocked, the plan says why
            log.error("copilot.drafting unavailable: %s", exc)
            self.compose_post = None
            self.import_error = str(exc)
        else:
            self.compose_post = compose_post
            self.import_error = ""

    def __call__(self, theme: str, brief: str, channel: str) -> dict[str, Any]:
        # compose_post checks copy for a mass send ("group") or moments; a one-to-one mass send
        # (add_msg_template, chat_type single) is checked as a mass send.
        post_channel = "moments" if channel == "moments" else "group"
        key = (theme, brief, post_channel)
        if key not in self.cache:
            self.cache[key] = self._compose(theme, brief, post_channel)
        return self.cache[key]

    def _compose(self, theme: str, brief: str, channel: str) -> dict[str, Any]:
        if self.compose_post is None:
            return {
                "copy": "",
                "citations": [],
                "verdict": "block",
                "findings": [internal_block(f"起草模块不可用，无法生成文案: {self.import_error}")],
                "writer": "",
            }
        try:
            d = self.compose_post(
                str(self.segment),
                theme,
                brief=brief,
                writer=self.writer,
                settings=self.settings,
                channel=channel,
            )
        except Exception as exc:
            log.exception("compose_post failed for theme %r", theme)
            return {
                "copy": "",
                "citations": [],
                "verdict": "block",
                "findings": [internal_block(f"生成文案失败: {type(exc).__name__}: {exc}")],
                "writer": "",
            }
        return {
            "copy": d.draft,
            "citations": list(d.citations),
            "verdict": d.verdict,
            "findings": list(d.findings),
            "writer": d.writer,
        }
