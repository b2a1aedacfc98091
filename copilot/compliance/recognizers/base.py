"""The shape every PII recognizer shares (after presidio's PatternRecognizer): a pattern that finds
candidates, a checksum-style ``validate`` that rejects look-alikes, and a ``mask`` that keeps the
value recognisable (110105********1234) without revealing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class PiiSpan:
    kind: str  # recognizer name, e.g. "resident_id"
    start: int
    end: int
    text: str  # the original characters
    masked: str


def mask_middle(value: str, keep_head: int, keep_tail: int, keep: str = "0123456789") -> str:
    """Replace the characters counted by ``keep`` (digits by default) between the first ``keep_head``
    and the last ``keep_tail`` of them with '*'; separators such as spaces stay where they were."""
    positions = [i for i, ch in enumerate(value) if ch in keep or ch.isdigit()]
    hidden = set(positions[keep_head : len(positions) - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


class Recognizer:
    name: ClassVar[str]
    label: ClassVar[str]  # Chinese name for messages
    pattern: ClassVar[re.Pattern[str]]
    # A cheap first look: every match of ``pattern`` contains a match of this, so a text without
    # one is skipped without running ``pattern`` (most messages hold no PII at all).
    needle: ClassVar[re.Pattern[str] | None] = None

    def validate(self, candidate: str) -> bool:
        """Checksum or plausibility check on the folded candidate text."""
        return True

    def mask(self, original: str) -> str:
        raise NotImplementedError

    def find(self, light: str, original: str) -> Iterator[PiiSpan]:
        """Spans in ``light`` (the folded text, same offsets as ``original``) that validate."""
        if self.needle is not None and self.needle.search(light) is None:
            return
        for m in self.pattern.finditer(light):
            if self.validate(m.group()):
                raw = original[m.start() : m.end()]
                yield PiiSpan(self.name, m.start(), m.end(), raw, self.mask(raw))
