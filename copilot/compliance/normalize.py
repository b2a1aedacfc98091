"""Text normalisation for matching, with an offset map back to the original text.

Two views of a message are built:

* ``light`` — same length as the original, character for character: full-width forms folded to
  half-width, traditional characters to simplified (opencc t2s, character level), ASCII letters
  lower-cased. PII recognizers and the product-code scan read this view, so offsets are the
  original offsets.
* ``dense`` — ``light`` with the characters people insert inside a term to dodge a filter removed
  (spaces, ``-``, ``*``, ``·``, quotes, brackets, emoji …). Sentence punctuation (，。！？；：、 and
  line breaks) stays, because it marks real boundaries: stripping it would join words that were
  never one term. ``origin[i]`` is the original index of ``dense[i]``.

Rule terms go through the same functions, so a term and a message always meet in the same form.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from copilot.text import CLAUSE_ENDS, SENTENCE_ENDS

# Characters removed from the dense view. '.' is handled separately: kept between digits (2.8%).
_SEPARATORS = (
    " \t\r\f\v\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"  # spaces, zero-width
    "\\-_*·•‧・~|/\\\\+=#^'\"`"
    "\u2010-\u2015\u2018-\u201f\u2026\u2027"  # dashes, curly quotes, ellipsis
    "()\\[\\]{}<>《》〈〉「」『』【】〔〕〖〗"
    "\u2190-\u21ff\u2460-\u24ff\u2500-\u27bf\u2b00-\u2bff"  # arrows, circled, box, dingbats, stars
    "\U0001f000-\U0001faff\ufe0f"  # emoji and variation selector
)
_DENSE_RUN = re.compile(rf"(?:[^{_SEPARATORS}.]|(?<=\d)\.(?=\d))+")
# The same rule, seen from the removed side: one removed character at a time (a separator, or a '.'
# not between two digits). Starting on a character class lets ``re`` skip the many characters that
# stay; the run pattern above tests a branch at every character and is three times slower.
_REMOVED = re.compile(rf"[{_SEPARATORS}.](?!(?<=\d\.)\d)")
# The shared punctuation set (copilot/text.py); the views are folded, so ！？；， arrive as !?;,.
_SENTENCE_END = re.compile(f"[{re.escape(SENTENCE_ENDS + CLAUSE_ENDS)}\n]")
_CLAUSE_END = re.compile(f"[{re.escape(SENTENCE_ENDS + CLAUSE_ENDS)},:\n、]")
_BARE_DROP = re.compile(r"[\W_]+")
# A quoted passage within one line (the light view folds full-width ＂ to ").
_QUOTED = re.compile(r'“[^”\n]*”|‘[^’\n]*’|「[^」\n]*」|『[^』\n]*』|"[^"\n]*"')


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """One-to-one character table: full-width -> half-width, traditional -> simplified, A-Z -> a-z.

    Built once (a few milliseconds). Only single-character results are kept so that the light view
    keeps the original length and offsets need no map at all.
    """
    import opencc

    table: dict[int, str] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "  # ideographic space
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    cjk = [chr(i) for i in (*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000))]
    simplified = opencc.OpenCC("t2s").convert("\n".join(cjk)).split("\n")
    if len(simplified) == len(cjk):
        for src, dst in zip(cjk, simplified, strict=True):
            if src != dst and len(dst) == 1:
                table[ord(src)] = dst
    return table


@lru_cache(maxsize=1)
def _translation() -> dict[int, int]:
    """``fold_table`` as ordinals, with every other BMP character mapped to itself: ``str.translate``
    then finds every character it looks up, instead of raising and clearing a KeyError for each
    unchanged one (most of a Chinese message), which made folding twice as slow."""
    table = {code: code for code in range(0x10000)}
    table.update((code, ord(char)) for code, char in fold_table().items())
    return table


def fold(text: str) -> str:
    """The light view: same length as ``text``."""
    return text.translate(_translation())


@dataclass(slots=True)
class NormalizedText:
    original: str
    light: str
    dense: str
    origin: list[int]
    _sentences: list[int] | None = field(default=None, repr=False)
    _bare: str | None = field(default=None, repr=False)
    _quotes: list[tuple[int, int]] | None = field(default=None, repr=False)
    _clauses: list[int] | None = field(default=None, repr=False)

    def bare(self) -> str:
        """The dense text without any punctuation (for phrases whose punctuation may vary)."""
        if self._bare is None:
            self._bare = _BARE_DROP.sub("", self.dense)
        return self._bare

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of ``dense`` to the original text."""
        return self.origin[start], self.origin[end - 1] + 1

    def dense_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the original text to the dense text (the inverse of ``span``)."""
        return bisect_left(self.origin, start), bisect_left(self.origin, end)

    def in_question(self, start: int, end: int) -> bool:
        """Whether ``dense[start:end]`` sits in a clause that asks rather than states: the clause
        ends with a question mark or with 吗 ("这个理财保本吗？", "一定能拿到2.9%吗")."""
        if self._clauses is None:  # clause ends are single characters: found once, then bisected
            self._clauses = [m.start() for m in _CLAUSE_END.finditer(self.dense)]
        i = bisect_left(self._clauses, end)  # the first clause end at or after ``end``
        if i < len(self._clauses):
            stop = self._clauses[i]
            return self.dense[stop] == "?" or self.dense[stop - 1 : stop] == "吗"
        stop = len(self.dense)
        return self.dense[stop - 1 : stop] == "吗"

    def in_quotes(self, start: int, end: int) -> bool:
        """Whether the original span ``start:end`` lies inside one pair of quotation marks."""
        if self._quotes is None:
            self._quotes = [m.span() for m in _QUOTED.finditer(self.light)]
        return any(q_start < start and end < q_end for q_start, q_end in self._quotes)

    def sentence_bounds(self, start: int, end: int) -> tuple[int, int]:
        """``(left, right)`` of the dense sentence holding ``dense[start:end]``."""
        if self._sentences is None:
            self._sentences = [m.start() for m in _SENTENCE_END.finditer(self.dense)]
        ends = self._sentences
        i = bisect_left(ends, start)  # first boundary at or after start
        left = ends[i - 1] + 1 if i > 0 else 0
        j = bisect_left(ends, end, lo=i)
        right = ends[j] if j < len(ends) else len(self.dense)
        return left, right

    def sentence_of(self, start: int, end: int) -> str:
        """The dense sentence holding ``dense[start:end]`` (bounded by 。!?; and line breaks)."""
        left, right = self.sentence_bounds(start, end)
        return self.dense[left:right]


def normalize(text: str) -> NormalizedText:
    light = fold(text)
    # The runs between removed characters, i.e. the runs of ``_DENSE_RUN`` (``dense_form``).
    parts: list[str] = []
    origin: list[int] = []
    kept_from = 0
    for m in _REMOVED.finditer(light):
        start = m.start()
        if start > kept_from:
            parts.append(light[kept_from:start])
            origin.extend(range(kept_from, start))
        kept_from = m.end()
    if kept_from == 0:  # nothing removed
        return NormalizedText(original=text, light=light, dense=light, origin=list(range(len(light))))
    if kept_from < len(light):
        parts.append(light[kept_from:])
        origin.extend(range(kept_from, len(light)))
    return NormalizedText(original=text, light=light, dense="".join(parts), origin=origin)


def dense_form(term: str) -> str:
    """A rule term in the form it is matched in (the dense view of the term alone)."""
    return "".join(m.group() for m in _DENSE_RUN.finditer(fold(term)))


def bare_form(text: str) -> str:
    """Dense form without any punctuation: for phrases whose punctuation may vary (the disclosure)."""
    return _BARE_DROP.sub("", dense_form(text))


@lru_cache(maxsize=256)
def bare_forms(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """``bare_form`` of each phrase, remembered: validators compare the same rule parameters (the
    disclosure, the past-performance warnings) with every message."""
    return tuple(bare_form(phrase) for phrase in phrases)


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


# Past this many Chinese characters a term gets only its all-pinyin spelling, not every mix.
MAX_MIXED_PINYIN_CHARS = 6


def pinyin_variants(term: str) -> set[str]:
    """Spellings of a dense term with pinyin standing in for some or all characters.

    "保本" -> {"保本", "bao本", "保ben", "baoben"}. Readings come from pypinyin with the whole term as
    context, so polyphonic characters take the reading the term implies.
    """
    from itertools import product

    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(term, style=Style.NORMAL, errors=lambda s: [""] * len(s))
    if len(syllables) != len(term):
        return {term}
    hanzi_positions = [i for i, ch in enumerate(term) if _is_hanzi(ch) and syllables[i]]
    if not hanzi_positions:
        return {term}
    variants = {term}
    if len(hanzi_positions) > MAX_MIXED_PINYIN_CHARS:
        variants.add("".join(syllables[i] if i in hanzi_positions else ch for i, ch in enumerate(term)))
        return variants
    for mask in product((False, True), repeat=len(hanzi_positions)):
        chars = list(term)
        for use_pinyin, i in zip(mask, hanzi_positions, strict=True):
            if use_pinyin:
                chars[i] = syllables[i]
        variants.add("".join(chars))
    return variants
