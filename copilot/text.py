"""The Chinese text toolkit every part shares: sentence splitting, character bigrams, [n] citations.

One punctuation set, here and nowhere else:

- ``SENTENCE_ENDS`` (。！？ and ASCII !?) end a sentence; a run of them ("？！") ends one sentence.
- ``CLAUSE_ENDS`` (；;) end a clause: callers that want shorter units (a snippet for a small
  model, a cut near a length limit, compliance's clause boundaries) split there too.
- Citation markers ``[n]`` and closing quotes or brackets right after the end belong to the
  sentence they close ("…收益承诺。[2]", "…“别转账。”").
- A line break ends a sentence too: ``split_sentences`` works line by line and never returns one.

A bigram is two adjacent characters of the text's Chinese characters, Latin letters, digits,
"%" and "." (3.5%, R2), after citation markers are removed: the unit every overlap score uses.
"""

from __future__ import annotations

import re

SENTENCE_ENDS = "。！？!?"
CLAUSE_ENDS = "；;"
CLOSERS = "”’」』）)"

CITATION = re.compile(r"\[(\d{1,2})\]")
_NOT_BIGRAM_CHAR = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9%.]")


def _sentence_pattern(ends: str) -> re.Pattern[str]:
    e = re.escape(ends)
    return re.compile(rf"[^{e}\n]*(?:[{e}]+(?:\[\d{{1,2}}\])*[{re.escape(CLOSERS)}]*|$)")


_SENTENCE = _sentence_pattern(SENTENCE_ENDS)
_CLAUSE = _sentence_pattern(SENTENCE_ENDS + CLAUSE_ENDS)


def split_sentences(text: str, *, clauses: bool = False) -> list[str]:
    """The sentences of ``text`` in order, each with its end punctuation, markers and closers.

    Nothing is dropped but line breaks: ``"".join(split_sentences(line)) == line`` for any line.
    With ``clauses`` a ；/; also ends a unit. Empty strings are not returned.
    """
    pattern = _CLAUSE if clauses else _SENTENCE
    return [s for line in text.split("\n") for s in pattern.findall(line) if s]


_SPAN = re.compile(rf"[^{re.escape(SENTENCE_ENDS + CLAUSE_ENDS)}\n]+[{re.escape(SENTENCE_ENDS + CLAUSE_ENDS)}]*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or clause of ``text`` (ends: SENTENCE_ENDS, CLAUSE_ENDS, line
    breaks), surrounding spaces trimmed, indexing ``text`` itself: what compliance scores and fixes."""
    out = []
    for m in _SPAN.finditer(text):
        raw = m.group()
        lead = len(raw) - len(raw.lstrip())
        out.append((m.start() + lead, m.start() + len(raw.rstrip())))
    return out


def sentence_end(text: str, start: int) -> int:
    """The index of the first sentence end or line break at or after ``start`` (len(text) if none)."""
    for j in range(start, len(text)):
        if text[j] in SENTENCE_ENDS or text[j] == "\n":
            return j
    return len(text)


def bigrams(text: str) -> set[str]:
    """The character bigrams of ``text`` (see the module docstring), citation markers left out."""
    han = _NOT_BIGRAM_CHAR.sub("", CITATION.sub("", text))
    return {han[i : i + 2] for i in range(len(han) - 1)}


def strip_citations(text: str) -> str:
    return CITATION.sub("", text)


def cited_numbers(text: str) -> list[int]:
    """The [n] markers in order of first use."""
    seen: list[int] = []
    for m in CITATION.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def renumber_citations(text: str) -> tuple[str, dict[int, int]]:
    """Renumber [n] markers 1..k in order of first use; returns the text and the old->new map."""
    mapping = {old: new for new, old in enumerate(cited_numbers(text), start=1)}
    return CITATION.sub(lambda m: f"[{mapping.get(int(m.group(1)), 0)}]", text), mapping
