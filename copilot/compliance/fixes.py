"""Automatic fixes and how they combine into the revised text.

A fix is either an edit of a span of the original text (mask PII, replace wording) or a sentence
appended at the end (the risk disclosure, the past-performance warning). Edits that overlap cannot
both be applied safely, so ``apply_fixes`` refuses them and the checker blocks instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from copilot.text import CLOSERS, SENTENCE_ENDS

# A text ending in one of these already ends a sentence (the shared set, plus … ~ 】).
_CLOSERS = tuple(SENTENCE_ENDS + CLOSERS + "…~】")


@dataclass(frozen=True, slots=True)
class FixAction:
    kind: Literal["replace", "mask", "append"]
    start: int = 0
    end: int = 0
    text: str = ""  # the replacement, the mask, or the sentence to append


class FixConflict(ValueError):
    """Two edits touch the same characters."""


def append_sentence(text: str, sentence: str) -> str:
    """Add ``sentence`` after ``text``: on a new line for multi-line posts, else after a full stop."""
    base = text.rstrip()
    if not base:
        return sentence
    if "\n" in base:
        return f"{base}\n{sentence}"
    return base + ("" if base.endswith(_CLOSERS) else "。") + sentence


def replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end, replacement) applied; spans sorted and not overlapping."""
    out: list[str] = []
    pos = 0
    for start, end, replacement in edits:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def apply_fixes(text: str, actions: list[FixAction]) -> str:
    edits = sorted({a for a in actions if a.kind != "append"}, key=lambda a: (a.start, a.end))
    for before, after in pairwise(edits):
        if after.start < before.end:
            raise FixConflict(f"自动修改位置重叠: {before.start}-{before.end} 与 {after.start}-{after.end}")
    revised = replace_spans(text, [(e.start, e.end, e.text) for e in edits])
    appended: list[str] = []
    for a in actions:
        if a.kind == "append" and a.text not in appended:
            appended.append(a.text)
            revised = append_sentence(revised, a.text)
    return revised
