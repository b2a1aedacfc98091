"""Personal information in free text: find it and mask it (《个人信息保护法》第二十八、五十一条).

``mask_pii`` is what every other part calls before a message is logged, stored or sent to a model;
it needs no rule packs, so it works even when the guardrail configuration is broken.
"""

from __future__ import annotations

from copilot.compliance.fixes import replace_spans
from copilot.compliance.normalize import fold
from copilot.compliance.recognizers import RECOGNIZERS, PiiSpan


def find_pii(text: str, kinds: tuple[str, ...] | None = None, light: str | None = None) -> list[PiiSpan]:
    """Non-overlapping PII spans in ``text``, sorted by position; higher-priority kinds win overlaps.
    ``light`` is ``fold(text)`` when the caller has it already."""
    light = fold(text) if light is None else light
    chosen: list[PiiSpan] = []
    for name, recognizer in RECOGNIZERS.items():
        if kinds is not None and name not in kinds:
            continue
        for span in recognizer.find(light, text):
            if all(span.end <= c.start or span.start >= c.end for c in chosen):
                chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def mask_pii(text: str) -> str:
    """``text`` with resident IDs, bank cards, mobile numbers and e-mail addresses masked."""
    spans = find_pii(text)
    return replace_spans(text, [(s.start, s.end, s.masked) for s in spans]) if spans else text
