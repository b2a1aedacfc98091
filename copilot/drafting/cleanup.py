"""Post-processing of model output: what a small model adds around the reply is removed.

A 1.5B model wraps replies in English chatter ("Sure! Here is…"), Markdown, quotes and labels
("回复："), invents source numbers and runs long. None of that may reach a customer.
"""

from __future__ import annotations

import re

from copilot.text import CITATION, CLAUSE_ENDS, SENTENCE_ENDS

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_FENCE = re.compile(r"```.*?(```|$)", re.S)
_MD_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d+[.)、]\s+)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_LABEL = re.compile(r"^\s*(?:回复|回答|草稿|话术|参考回复|回复草稿|客户经理|答复|Reply|Answer|Draft)\s*[:：]\s*", re.I)
# Acknowledgements aimed at the instructions, not the customer ("好的，我明白了。").
_ACK = re.compile(r"^\s*(?:好的|明白了|收到)[，,。!！]\s*(?:我明白了[，,。!！]?\s*)?")
# Codes, levels and units that legitimately carry Latin letters inside Chinese text.
_ALLOWED_LATIN = re.compile(r"QH-[A-Z0-9-]+|\b[RC][1-5]\b|App|APP|H5|KOC|MGM|ETF|LPR|T\+\d|%", re.I)


def _mostly_english(line: str) -> bool:
    """A line with Latin words and no Chinese is chatter ("Sure, here's a draft:")."""
    stripped = _ALLOWED_LATIN.sub("", line)
    return not _CJK.search(line) and bool(_LATIN_WORD.search(stripped))


def _drop_english_clauses(line: str) -> str:
    """Remove English sentences embedded in a Chinese line, keep codes like QH-WM-R2-002."""

    def keep(m: re.Match[str]) -> str:
        chunk = m.group(0)
        return chunk if _ALLOWED_LATIN.fullmatch(chunk.strip(" .,:;!?")) else ""

    # runs of Latin words (3+ words) are prose; shorter runs may be codes or brand names
    return re.sub(r"(?:[A-Za-z][A-Za-z'’-]*[ ,.:;!?]+){3,}[A-Za-z'’-]*[.!?]?", keep, line)


def clean_model_text(text: str, n_sources: int, max_chars: int, echoes: tuple[str, ...] = ()) -> str:
    """Strip chatter and Markdown, drop unknown [n] markers, cut at a sentence end near max_chars.

    ``echoes`` are prompt fragments a small model copies verbatim (source labels such as
    "薪享月月盈固收类理财产品…·业绩比较基准及测算依据："); they are removed wherever they appear.
    """
    text = _FENCE.sub("", text.replace("\r\n", "\n"))
    for echo in sorted(echoes, key=len, reverse=True):
        if echo:
            text = re.sub(re.escape(echo) + r"\s*[：:]?", "", text)
    lines: list[str] = []
    for raw in text.split("\n"):
        line = _MD_EMPHASIS.sub("", _MD_PREFIX.sub("", raw)).strip()
        line = _LABEL.sub("", line).strip().strip("\"“”'")
        if not line or _mostly_english(line):
            continue
        line = _drop_english_clauses(line).strip()
        if line:
            lines.append(line)
    out = _ACK.sub("", "\n".join(lines))
    out = CITATION.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_sources else "", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return truncate_at_sentence(out, max_chars).strip()


def truncate_at_sentence(text: str, max_chars: int) -> str:
    """Cut to at most max_chars, preferring the last sentence end (keeps a trailing [n])."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = max(head.rfind(ch) for ch in SENTENCE_ENDS + CLAUSE_ENDS)
    if cut >= max_chars // 3:
        end = cut + 1
        m = re.match(r"(?:\[\d{1,2}\])+", text[end:])
        return text[: end + (m.end() if m else 0)]
    return head.rstrip("，,、") + "…"


_CITE_AS_VALUE = re.compile(r"(?:是|为|在|：|:)\s*\[\d{1,2}\]\s*[，,。；;、]")


def uses_citation_as_value(text: str) -> bool:
    """ "时间是[1]，地点是[2]": the model put source numbers where facts should be."""
    return bool(_CITE_AS_VALUE.search(text))


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))
