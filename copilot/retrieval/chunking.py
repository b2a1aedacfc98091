"""Split a document into retrievable chunks that respect headings, statute articles and
Chinese sentence ends. Each chunk keeps its heading path."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.text import CLAUSE_ENDS, SENTENCE_ENDS

CHUNKER_VERSION = 2  # bump when chunk texts or heading paths change: ingest then rebuilds old entries
TARGET_CHARS = 360  # ~ a short paragraph; keeps LLM context compact (see DESIGN.md prompt timings)
MAX_CHARS = 600
ARTICLE_MAX_CHARS = 1200  # a statute article stays whole up to this size: citations name the article

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ARTICLE = re.compile(r"^\s*(第[一二三四五六七八九十百千零〇两]+条)(?:\s|$|　)")
_SENTENCE_END = re.compile(f"(?<=[{re.escape(SENTENCE_ENDS + CLAUSE_ENDS)}])")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ARTICLE_LEVEL = 7  # below every Markdown heading level


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
    # (level, text) pairs: a heading closes every open heading of its level or deeper, also when
    # the document skips levels or has no H1 (a plain index-by-level list got that wrong)
    path: list[tuple[int, str]] = []
    paras: list[str] = []
    article_base: list[tuple[int, str]] | None = None

    def flush() -> None:
        nonlocal paras
        if paras:
            sections.append(([text for _, text in path], paras, article_base is not None))
        paras = []

    for para in re.split(r"\n\s*\n", _HTML_COMMENT.sub("", body)):
        lines = para.strip().splitlines()
        if not lines:
            continue
        m = _HEADING.match(lines[0])
        if m:
            flush()
            level = len(m.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, m.group(2).strip()))
            article_base = None
            rest = "\n".join(lines[1:]).strip()
            if rest:
                paras.append(rest)
            continue
        a = _ARTICLE.match(para)
        if a:
            flush()
            if article_base is None:
                if path and path[-1][1].split()[:1] == [a.group(1)]:
                    # "## 第十九条" then "第十九条 …": the heading already names the article
                    path[-1] = (_ARTICLE_LEVEL, path[-1][1])
                    article_base = path[:-1]
                else:
                    article_base = list(path)
                    path.append((_ARTICLE_LEVEL, a.group(1)))
            else:
                path[:] = [*article_base, (_ARTICLE_LEVEL, a.group(1))]
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
