"""Snippets: the few sentences of a passage that share most with a question."""

from __future__ import annotations

import re

from copilot.text import bigrams, split_sentences

_MARKUP = re.compile(r"^\s*(?:#{1,6}\s*|>\s*|[-*+]\s+|[·•]\s*|\d+[.)、]\s*|[0-9]\ufe0f?\u20e3\s*)|\*\*|`")
# FAQ sections ("问：……？ 答：……"): the question is the sheet's, not something to tell a customer.
_QUESTION = re.compile(r"^问[:：]")
_ANSWER = re.compile(r"^答[:：]\s*")


_CELL_FIGURE = re.compile(r"^\d+(?:\.\d+)?%$")
_PAREN = re.compile(r"（[^）]*）|\([^)]*\)")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_sentences(lines: list[str]) -> list[str]:
    """Markdown table rows as sentences a customer can read: the row's first cell names it, then its
    cells ("周三半价日：每周三 全天使用，合作餐饮品牌指定套餐半价…。"); a bare figure keeps its
    column's name ("3年：挂牌年利率1.55%。"). Other lines are kept as they are."""
    out: list[str] = []
    header: list[str] = []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s.startswith("|"):
            header = []
            out.append(line)
            continue
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if re.fullmatch(r"\|?[\s:|-]+\|?", s):
            continue  # the separator row
        if not header and re.fullmatch(r"\|?[\s:|-]+\|?", nxt):
            header = [_PAREN.sub("", c) for c in _cells(s)]
            continue
        cells = _cells(s)
        if len(cells) < 2 or not cells[0]:
            continue
        rest = [f"{header[j]}{c}" if _CELL_FIGURE.match(c) and j < len(header) else c
                for j, c in enumerate(cells[1:], start=1) if c]  # fmt: skip
        # one row, one sentence: a cell's own "；" would let its last clause be cut off the row
        out.append(f"{cells[0]}：{'，'.join(rest)}。".replace("；", "，"))
    return out


def snippet(text: str, query: str, max_chars: int = 90, min_overlap: int = 0, whole: bool = False) -> str:
    """The sentences of a passage that share most with the query, in their original order.

    Small models read prompts slowly (~80 tokens/s here), so each source is cut to a few
    sentences rather than sent whole. With ``min_overlap`` only sentences sharing that many
    bigrams with the query are taken (a draft quoting a passage must not drift to another topic).
    """
    return _snippet(text, query, max_chars, min_overlap, whole)[0]


def quotable(text: str, query: str, max_chars: int, min_overlap: int = 1, topic: str = "") -> tuple[str, str]:
    """Whole sentences to quote to a customer, and the FAQ questions they answer ("" if none): a
    sheet's "问：工资转到别的银行要收手续费吗？" says what its answer is about. ``topic`` (the needs'
    words) breaks ties between sentences the question itself shares as much with."""
    return _snippet(text, query, max_chars, min_overlap, True, topic)


def _snippet(
    text: str, query: str, max_chars: int, min_overlap: int, whole: bool, topic: str = ""
) -> tuple[str, str]:
    lines = text.splitlines()
    rows = set(table_sentences([ln for ln in lines if ln.lstrip().startswith("|")])) if whole else set()
    if whole:  # quoted to a customer: a table row becomes a sentence ("周三半价日：每周三全天使用，…"),
        # and a document's "> 示例材料…" note is about the document, not for the customer
        lines = [ln for ln in table_sentences(lines) if not ln.lstrip().startswith(("|", ">"))]
    plain = "\n".join(_MARKUP.sub("", line).replace("|", "，").strip(" ，") for line in lines)
    sentences: list[str] = []
    context: list[str] = []  # an FAQ answer is about its question ("离职后卡还能用吗？")
    question = ""
    for line in plain.splitlines():
        for raw in split_sentences(line, clauses=True):
            s = raw.strip()
            if _QUESTION.match(s):
                question = s
                continue
            if len(s) <= 3 or "示例材料" in s:
                continue
            # a sample-data caveat ("利率为示例数据…") says nothing on its own to a customer, and an
            # introduction ("这三句话一听就要当心：") nothing without what it introduces
            if whole and ("示例" in s or re.search(r"[：:]\s*$", s)):
                continue
            sentences.append(_ANSWER.sub("", s))
            context.append(question)
        question = ""  # a question covers the answer on its own line only
    if not sentences:
        return "", ""  # a title chunk or a sample notice: nothing a customer should read
    t_only = bigrams(topic) - bigrams(query)
    q = bigrams(query) | t_only

    def shared(i: int) -> int:
        return len(q & bigrams(sentences[i] + context[i]))

    def rank(i: int) -> tuple[int, int]:  # the question's own words first, the needs' words break ties
        b = bigrams(sentences[i] + context[i])
        return len(b & (q - t_only)), len(b & t_only)

    ranked = sorted(range(len(sentences)), key=lambda i: (-rank(i)[0], -rank(i)[1], i))
    ranked = [i for i in ranked if shared(i) >= min_overlap]
    if whole:  # an FAQ answer is quoted only for a question like its own
        ranked = [i for i in ranked if not context[i] or len(q & bigrams(context[i])) >= max(min_overlap, 2)]
    if not ranked:
        return "", ""
    if whole:  # only whole sentences: a quote cut with "…" reads as a mistake
        ranked = [i for i in ranked if len(sentences[i]) <= max_chars]
        # and only sentences close to the question: a table row about as close as the best one (no
        # drift to the next row), another sentence at least a third as close
        top = rank(ranked[0])[0] if ranked else 0
        ranked = [i for i in ranked if (2 if sentences[i] in rows else 3) * rank(i)[0] >= top]
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used and used + len(sentences[i]) > max_chars:
            continue
        chosen.append(i)
        used += len(sentences[i])
        if used >= max_chars:
            break
    out = "".join(sentences[i] if sentences[i][-1] in "。！？；～~" else sentences[i] + "。" for i in sorted(chosen))
    if whole:
        out = re.sub(r"；$", "。", out)
    asked = "".join(dict.fromkeys(context[i] for i in sorted(chosen) if context[i]))
    return (out if len(out) <= max_chars else out[: max_chars - 1] + "…"), asked
