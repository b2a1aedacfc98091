"""Fitting a draft to the persona's length limit by dropping whole sentences, least useful first.

A draft is cut into pieces (sentences; a list item's sentences; a line ending in "：" that
introduces what follows). The caller marks what must stay — the greeting, the exact product
facts, the "not a promise" sentence, the risk disclosure — and every other piece is scored by how
much it shares with the customer's question, earlier pieces winning ties. Required pieces are
kept; the others are added best first while the draft still fits. A piece that leans on the one
before it ("3.5%在这个范围里" after the benchmark, "比如：" items after their introduction) is
only kept with it. Nothing is cut mid-sentence: if the required pieces alone are too long, the
draft is longer than the limit rather than missing a fact it must state.

Length is counted as the evaluation counts it (eval/README.md): citation markers, the risk
disclosure and the persona's sign-off are not part of the reply's own length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from copilot.drafting.scripts import renumber_lists
from copilot.text import CITATION, bigrams, split_sentences

DISCLOSURE = "理财非存款、产品有风险、投资须谨慎"
# A list item: "1. " "1、" "1️⃣" "· " "- " "• " or an emoji bullet ("📍领取：…"), or "一是，".
_ITEM = re.compile(
    r"^\s*(?:\d{1,2}[.、)）]|[0-9]\ufe0f?\u20e3|[·•\-–]\s|[\U0001f300-\U0001faff\u2600-\u27bf]\ufe0f?\s*\S"
    r"|[一二三四五六七八九十]是[，,]|第[一二三四五六七八九十][，,、])"
)
# Sentences that lean on the one before: connectives, and references back to it.
_LEANS_START = re.compile(
    r"^(?:[一二三四五六七八九十]是[，,])?\s*(?:但|但是|不过|所以|因此|而且|并且|同时|另外|此外|也就是说|这样|那样"
    r"|这个|这些|那些|这一点|这部分|它们|其中|比如|例如)"
)
_LEANS_ANY = re.compile(r"这个范围|这个基准|这两|两种|上面|以上这|前面说的|问这个")
_CHINESE_ORDINAL = re.compile(r"(^|(?<=[\n。！？]))([一二三四五六七八九])是([，,])")
_ORDINALS = "一二三四五六七八九"


@dataclass
class Piece:
    text: str
    line: int  # pieces on the same line are joined without a break
    section: int = 0  # script, facts, … : a section's citation is kept on its last kept piece
    required: bool = False
    score: float = 0.0
    needs: set[int] = field(default_factory=set)  # indexes of pieces this one cannot stand without
    intro: bool = False  # ends in "：": kept only if a piece of its section follows it
    glue: bool = False  # joined to the next kept piece on its line (a greeting "您好，")
    index: int = -1  # position in the layout (dependencies are positions)
    item: bool = False  # part of a list item ("1. …", "· …")


def visible_length(text: str, uncounted: Iterable[str] = ()) -> int:
    """The reply's own length: without [n] markers, the disclosure and the sign-off."""
    body = CITATION.sub("", text)
    for fixed in (DISCLOSURE, *uncounted):
        if fixed:
            body = body.replace(fixed, "")
    return len(body.strip())


def split_pieces(text: str, section: int = 0, first_line: int = 0, base: int = 0) -> list[Piece]:
    """Pieces of one section's text, with the dependencies the wording itself shows. ``base`` is
    the index the first piece will have in the caller's list (dependencies are indexes)."""
    pieces: list[Piece] = []
    line_no = first_line
    intro_at: int | None = None  # the latest introduction ("比如：") in this section
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            intro_at = None  # a blank line ends a list
            continue
        is_item = bool(_ITEM.match(line))
        if not is_item:
            intro_at = None
        start = len(pieces)
        for sentence in (s for s in split_sentences(line) if s.strip()):
            idx = len(pieces)
            piece = Piece(text=sentence.strip(), line=line_no, section=section, item=is_item)
            if idx > start and is_item:
                piece.needs.add(base + idx - 1)  # an item is kept from its start, sentence by sentence
            elif is_item and intro_at is not None:
                piece.needs.add(base + intro_at)
            elif (_LEANS_START.match(piece.text) or _LEANS_ANY.search(piece.text)) and pieces:
                piece.needs.add(base + idx - 1)
            pieces.append(piece)
        if len(pieces) > start and re.search(r"[：:]$", pieces[-1].text):
            pieces[-1].intro = True
            intro_at = len(pieces) - 1
        line_no += 1
    return pieces


class Layout:
    """A draft under construction: sections of pieces, each section with its citation number."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.cites: dict[int, int] = {}
        self._line = 0
        self._section = 0

    def add(
        self,
        text: str,
        *,
        required: bool = False,
        glue: bool = False,
        cite: int = 0,
        query: str = "",
        aim: str = "",
        weight: float = 1.0,
    ) -> list[Piece]:
        """Add a section; its pieces are required, or scored by relevance to ``query``."""
        if not text.strip():
            return []
        self._section += 1
        new = split_pieces(text, self._section, self._line, base=len(self.pieces))
        if glue:  # one piece joined to whatever follows (a greeting)
            new = [Piece(text=text.strip(), line=self._line, section=self._section)]
            new[0].glue = True
        for offset, piece in enumerate(new):
            piece.required = piece.required or required
            piece.index = len(self.pieces) + offset
        if query and not required:
            score_by_relevance(new, query, weight, aim)
        self.pieces.extend(new)
        self._line = max([p.line for p in new], default=self._line) + 1
        if cite:
            self.cites[self._section] = cite
        return new

    def fit(self, limit: int, measure: Callable[[str], int]) -> str:
        return fit(self.pieces, limit, measure, self.cites)

    def text(self) -> str:
        return render(self.pieces, set(range(len(self.pieces))), self.cites)


def closure(pieces: list[Piece], start: Iterable[int]) -> set[int]:
    todo, seen = list(start), set()
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        todo.extend(pieces[i].needs)
    return seen


def render(pieces: list[Piece], chosen: set[int], cites: dict[int, int] | None = None) -> str:
    """The chosen pieces in order. A section's citation moves to its last kept piece if the piece
    that carried it was dropped; an introduction ("比如：") is kept only with a piece it introduces."""
    needed = {n for i in chosen for n in pieces[i].needs}
    keep = [i for i in sorted(chosen) if not pieces[i].intro or i in needed]
    texts = {i: pieces[i].text for i in keep}
    for section, n in (cites or {}).items():
        mine = [i for i in keep if pieces[i].section == section]
        marker = f"[{n}]"
        if mine and not any(marker in texts[i] for i in mine):
            plain = [i for i in mine if DISCLOSURE not in texts[i] and not pieces[i].glue] or mine
            last = plain[-1]
            m = re.search(r"[。！？!?；;，,：:~～]*$", texts[last])
            cut = m.start() if m else len(texts[last])
            texts[last] = f"{texts[last][:cut]}{marker}{texts[last][cut:]}"
    out: list[str] = []
    for pos, i in enumerate(keep):
        piece = pieces[i]
        nxt = pieces[keep[pos + 1]] if pos + 1 < len(keep) else None
        text = texts[i]
        if piece.item and (nxt is None or not nxt.item or nxt.section != piece.section):
            text = re.sub(r"[；;，,]$", "。", text)  # the list's last kept item ends the list
        out.append(text)
        if nxt is not None and nxt.line != piece.line and not piece.glue:
            out.append("\n")
    return renumber_lists(renumber_ordinals("".join(out))).strip()


def renumber_ordinals(text: str) -> str:
    """一是/二是/三是 in order again after a dropped item (二是 … 三是 → 一是 … 二是)."""
    found = list(_CHINESE_ORDINAL.finditer(text))
    if not found or [m.group(2) for m in found] == list(_ORDINALS[: len(found)]):
        return text
    counter = iter(_ORDINALS)
    return _CHINESE_ORDINAL.sub(lambda m: f"{m.group(1)}{next(counter)}是{m.group(3)}", text)


def fit(
    pieces: list[Piece],
    limit: int,
    measure: Callable[[str], int],
    cites: dict[int, int] | None = None,
) -> str:
    """The required pieces plus as many others as fit within ``limit``, best score first."""
    chosen = closure(pieces, [i for i, p in enumerate(pieces) if p.required])
    optional = sorted(
        (i for i in range(len(pieces)) if i not in chosen and not pieces[i].intro),
        key=lambda i: (-pieces[i].score, i),
    )
    for i in optional:
        if i in chosen:
            continue
        candidate = chosen | closure(pieces, [i])
        if measure(render(pieces, candidate, cites)) <= limit:
            chosen = candidate
    return render(pieces, chosen, cites)


def score_by_relevance(pieces: list[Piece], query: str, weight: float = 1.0, aim: str = "") -> None:
    """Score each piece by the bigrams it shares with the question (and, at half weight, with what
    the reply should do: the scenario's guidance), earlier pieces a little higher."""
    q, a = bigrams(query), bigrams(aim)
    for pos, piece in enumerate(pieces):
        b = bigrams(piece.text)
        piece.score = weight * (len(q & b) + 0.5 * len(a & b) + 1.5 / (1 + pos))
