"""The drafting pipeline: brief → attempts (writer → finish → check) → the final, checked draft.

``prepare`` builds one frozen ``Brief``; each try is an ``Attempt`` and ``next_attempt`` says
what comes after a blocked or failed one. ``_run`` reports progress as typed events
(``Token``, ``Retry``, ``Fallback``, ``Final``): ``draft_reply`` keeps only the final draft,
``stream_reply`` forwards every event. Only the final, checked text is sendable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator

from copilot.config import Settings, get_settings
from copilot.domain import Draft, Verdict
from copilot.drafting.attempts import Attempt, Failed, first_attempt, next_attempt, rewrites_for
from copilot.drafting.brief import Brief
from copilot.drafting.checking import check_draft
from copilot.drafting.events import Event, Fallback, Final, Retry, Token
from copilot.drafting.finish import finish_model_draft
from copilot.drafting.lead import Lead, lead_for
from copilot.drafting.prepare import prepare_post, prepare_reply
from copilot.drafting.request import DraftRequest
from copilot.drafting.timings import Clock
from copilot.drafting.writers import GenerationStats, TemplateWriter, Writer, WriterError, select_writer
from copilot.segments import iterate_within, segments_of
from copilot.text import renumber_citations

log = logging.getLogger("copilot.drafting")


def _write(
    writer: Writer, brief: Brief, attempt: Attempt, stats: GenerationStats, lead: Lead | None
) -> Generator[Event, None, str]:
    """Stream the writer's text (after the opening written for it, if any); return what it wrote."""
    if lead is not None:
        yield Token(lead.text, lead=True)
    pieces: list[str] = []
    for piece in writer.write(brief, attempt, stats):
        pieces.append(piece)
        yield Token(piece)
    return "".join(pieces)


def _run(brief: Brief, chosen: Writer, downgrade: str, settings: Settings, clock: Clock) -> Iterator[Event]:
    """Write, finish and check until an attempt's verdict ends the ladder (``attempts.py``)."""
    writers: dict[str, Writer] = {"template": TemplateWriter(settings), chosen.name: chosen}
    attempt = first_attempt(chosen.name, brief.script is not None, downgrade, rewrites_for(chosen.name, settings))
    while True:
        writer = writers[attempt.writer]
        stats = GenerationStats()
        lead = lead_for(brief, attempt, settings)
        t0 = time.perf_counter()
        try:
            raw = yield from _write(writer, brief, attempt, stats, lead)
            text = finish_model_draft(raw, brief, settings, lead) if attempt.model else raw.strip()
        except WriterError as exc:
            clock.generate_s += time.perf_counter() - t0
            following = next_attempt(attempt, Failed(exc.reason))
            if following is None:
                raise
            attempt = following
            yield Fallback(attempt.reason)
            continue
        clock.generate_s += time.perf_counter() - t0
        if attempt.model:
            clock.model_stats = stats
        clock.first_token_s = clock.first_token_s or stats.first_token_s
        text, mapping = renumber_citations(text)
        t0 = time.perf_counter()
        verdict = check_draft(text, brief, model=attempt.model)
        clock.check_s += time.perf_counter() - t0
        # Inputs were masked before generation, so the draft is safe to log at debug level.
        log.debug(
            "attempt=%s verdict=%s raw=%r final=%r findings=%s",
            attempt, verdict.verdict, raw, text, [(f.rule, f.text) for f in verdict.findings],
        )  # fmt: skip
        following = next_attempt(attempt, verdict)
        if following is None:
            break
        attempt = following
        yield Retry(attempt.reason) if attempt.announce == "retry" else Fallback(attempt.reason)
    yield Final(_draft(brief, writer, attempt, text, mapping, verdict, clock))


def _draft(
    brief: Brief, writer: Writer, attempt: Attempt, text: str, mapping: dict[int, int], verdict: Verdict, clock: Clock
) -> Draft:
    final_text = verdict.revised if verdict.verdict == "revise" and verdict.revised else text
    citations = sorted(
        (s.citation().model_copy(update={"n": mapping[s.n]}) for s in brief.sources if s.n in mapping),
        key=lambda c: c.n,
    )
    return Draft(
        draft=final_text,
        citations=citations,
        verdict=verdict.verdict,
        findings=[*verdict.findings, *brief.notes],
        writer=writer.name,
        model=writer.model,
        sendable=verdict.verdict in ("pass", "revise") and bool(final_text.strip()),
        fallback_reason=attempt.fallback_reason,
        timings=clock.report(),
    )


def stream_reply(req: DraftRequest, writer: str | None = None, settings: Settings | None = None) -> Iterator[Event]:
    """Typed events: ``Token``s (a preview), ``Retry``/``Fallback`` (discard the preview), then one
    ``Final`` with the checked draft. Raises DraftingInputError (or ValidationError) on bad input."""
    settings = settings or get_settings()
    # the segments of this content root are in force while the events are produced (``segments.py``)
    return iterate_within(settings, _stream_in_scope(req, writer, settings))


def _stream_in_scope(req: DraftRequest, writer: str | None, settings: Settings) -> Iterator[Event]:
    t_start = time.perf_counter()
    chosen, downgrade = select_writer(writer, settings)
    brief, timings = prepare_reply(req, settings)
    if downgrade:
        yield Fallback(downgrade)
    yield from _run(brief, chosen, downgrade, settings, Clock(t_start, timings))


def _final(events: Iterator[Event]) -> Draft:
    for event in events:
        if isinstance(event, Final):
            return event.draft
    raise RuntimeError("drafting pipeline ended without a draft")  # pragma: no cover


def draft_reply(req: DraftRequest, writer: str | None = None, settings: Settings | None = None) -> Draft:
    """A checked reply draft. Raises DraftingInputError (or pydantic ValidationError) on bad input."""
    return _final(stream_reply(req, writer, settings))


def compose_post(
    segment: str,
    theme: str,
    brief: str = "",
    writer: str | None = None,
    settings: Settings | None = None,
    channel: str = "group",
) -> Draft:
    """Post copy for a segment's groups (mass send) or moments on a theme, checked for that channel."""
    t_start = time.perf_counter()
    settings = settings or get_settings()
    with segments_of(settings):
        prepared, timings = prepare_post(segment, theme, brief, channel, settings)
        chosen, downgrade = select_writer(writer, settings)
        return _final(_run(prepared, chosen, downgrade, settings, Clock(t_start, timings)))
