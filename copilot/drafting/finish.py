"""The finisher of model drafts: clean the output, refuse unusable text, cite, add the exact facts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from copilot.config import Settings
from copilot.drafting.bigram_stats import knowledge_common_bigrams, topical_overlap
from copilot.drafting.brief import Brief, Source
from copilot.drafting.cleanup import clean_model_text, has_chinese, uses_citation_as_value
from copilot.drafting.compose import aim
from copilot.drafting.fitting import Layout
from copilot.drafting.lead import Lead, without_greeting
from copilot.drafting.obligations import fact_context, finish_text, mark_required
from copilot.drafting.writers.base import WriterError
from copilot.text import cited_numbers

SUPPORT_MIN_OVERLAP = 6  # distinctive bigrams a draft must share with a passage to rest on it


def cite_supporting(text: str, sources: Iterable[Source], common: frozenset[str]) -> str:
    """A model draft that cites nothing still rests on what it was shown: mark the sources it
    demonstrably uses (enough distinctive shared bigrams), so every draft shows where it came from."""
    used = [s.n for s in sources if topical_overlap(text, f"{s.snippet}{s.hit.text}", common) >= SUPPORT_MIN_OVERLAP]
    return text.rstrip() + "".join(f"[{n}]" for n in used) if used else text


def complete_model_text(text: str, brief: Brief, settings: Settings) -> str:
    """A cleaned model draft plus the exact facts and disclosure it left out, fitted to the
    persona's limit: the model's own sentences give way (last first) to the facts."""
    text, missing = fact_context(brief, text)
    layout = Layout()
    pieces = layout.add(text, query=brief.message or brief.theme, aim=aim(brief))
    for piece in pieces[:1]:
        piece.required = True  # the model's opening answers the question
    mark_required(pieces, brief, "")
    layout.add(missing.footer(brief, settings), required=True)
    return finish_text(layout, brief)


def says_something_new(text: str, brief: Brief) -> bool:
    """A continuation that only repeats the customer's question (a 1.5B model continuing a reply's
    opening sometimes echoes the question back) says nothing."""
    core = re.sub(r"[\W\d_]+", "", text)
    asked = re.sub(r"[\W\d_]+", "", brief.message)
    return bool(core) and not (asked and (core in asked or (asked in core and len(core) - len(asked) < 6)))


def finish_model_draft(raw: str, brief: Brief, settings: Settings, lead: Lead | None = None) -> str:
    """The model's raw output (after ``lead``, the opening written for it) as a draft, or
    WriterError when nothing usable is in it."""
    labels = tuple(s.label for s in brief.sources)
    if lead is not None:
        raw = without_greeting(raw, lead)
    text = clean_model_text(raw, n_sources=len(brief.sources), max_chars=brief.persona.max_chars, echoes=labels)
    if len(text) < 6 or not has_chinese(text) or not says_something_new(text, brief):
        raise WriterError("模型返回的内容无法使用（没有有效的中文正文）")
    if lead is not None:
        text = lead.text + text
    if uses_citation_as_value(text):
        raise WriterError("模型返回的内容无法使用（用资料编号代替了具体信息）")
    text = complete_model_text(text, brief, settings)
    if not cited_numbers(text):
        text = cite_supporting(text, brief.sources, knowledge_common_bigrams(settings))
    return text
