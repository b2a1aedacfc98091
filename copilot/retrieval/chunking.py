"""Split a document into retrievable chunks that respect headings, statute articles and
Chinese sentence ends. Each chunk keeps its heading path."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TARGET_CHARS = 360  # ~ a short paragraph; keeps LLM context compact (see DESIGN.md prompt timings)
MAX_CHARS = 600
ARTICLE_MAX_CHARS = 1200  # a statute article stays whole up to this size: citations name the article

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ARTICLE = re.compile(r"^\s*(第[一二三四五六七八九十百千零〇两]+条)(?:\s|$|　)")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass
class Chunk:
    text: str
    headings: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)


def _split_long(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Pack sentences (split after 。！？；) into pieces of at most ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    pieces: list[str] = []
    cur = ""
    for s in sentences:
        while len(s) > limit:  # a sentence without any end mark: hard cut
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(s[:limit])
            s = s[limit:]
        if cur and len(cur) + len(s) > TARGET_CHARS:
            pieces.append(cur)
            cur = ""
        cur += s
    if cur.strip():
        pieces.append(cur)
    return [p.strip() for p in pieces if p.strip()]


def _blocks(body: str) -> list[tuple[list[str], list[str], bool]]:
    """(heading path, paragraphs, is_article) sections; a statute article (第X条) is its own section."""
    sections: list[tuple[list[str], list[str], bool]] = []
    path: list[str] = []
    paras: list[str] = []
    article_base: list[str] | None = None

    def flush() -> None:
        nonlocal paras
        if paras:
            sections.append((list(path), paras, article_base is not None))
        paras = []

    for para in re.split(r"\n\s*\n", _HTML_COMMENT.sub("", body)):
        lines = para.strip().splitlines()
        if not lines:
            continue
        m = _HEADING.match(lines[0])
        if m:
            flush()
            level = len(m.group(1))
            del path[level - 1 :]
            path.extend([""] * (level - 1 - len(path)))
            path.append(m.group(2).strip())
            path[:] = [p for p in path if p]
            article_base = None
            rest = "\n".join(lines[1:]).strip()
            if rest:
                paras.append(rest)
            continue
        a = _ARTICLE.match(para)
        if a:
            flush()
            if article_base is None:
                article_base = list(path)
            path[:] = [*article_base, a.group(1)]
        paras.append(para.strip())
    flush()
    return sections


def chunk_document(body: str, title: str = "") -> list[Chunk]:
    """Chunks of a Markdown/plain body. Short sibling paragraphs are packed together up to
    TARGET_CHARS; a statute article is always one chunk unless it is longer than MAX_CHARS."""
    chunks: list[Chunk] = []
    for headings, paras, is_article in _blocks(body):
        if headings and headings[0] == title:
            headings = headings[1:]  # the H1 usually repeats the title
        target = ARTICLE_MAX_CHARS if is_article else TARGET_CHARS
        cur = ""
        for para in paras:
            for piece in _split_long(para, ARTICLE_MAX_CHARS if is_article else MAX_CHARS):
                if cur and len(cur) + len(piece) + 1 > target:
                    chunks.append(Chunk(cur, list(headings)))
                    cur = ""
                cur = f"{cur}\n{piece}" if cur else piece
        if cur.strip():
            chunks.append(Chunk(cur.strip(), list(headings)))
    return chunks
