"""Chunking: heading paths, one chunk per statute article, sentence-aware splitting, size limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copilot.knowledge import read_document
from copilot.retrieval.chunking import ARTICLE_MAX_CHARS, MAX_CHARS, chunk_document

ARTICLE = re.compile(r"^(第[一二三四五六七八九十百千零〇两]+条)", re.M)


def test_headings_become_heading_paths() -> None:
    body = (
        "# 养老理财指南\n\n导语。\n\n## 产品特点\n\n期限较长。\n\n### 风险\n\n净值会波动。\n\n"
        "## 适合人群\n\n稳健型客户。\n"
    )
    chunks = chunk_document(body, title="养老理财指南")
    by_text = {c.text: c.headings for c in chunks}
    assert by_text["导语。"] == []  # the H1 repeats the title: not part of the path
    assert by_text["期限较长。"] == ["产品特点"]
    assert by_text["净值会波动。"] == ["产品特点", "风险"]
    assert by_text["稳健型客户。"] == ["适合人群"]  # a sibling closes the deeper heading
    assert next(c for c in chunks if c.text == "净值会波动。").heading == "产品特点 > 风险"


def test_h1_kept_when_it_differs_from_the_title() -> None:
    chunks = chunk_document("# 附录\n\n补充说明。\n", title="产品说明书")
    assert chunks[0].headings == ["附录"]


def test_sibling_headings_without_h1_do_not_nest() -> None:
    chunks = chunk_document("## 甲\n\n甲的内容。\n\n## 乙\n\n乙的内容。\n", title="T")
    assert [c.headings for c in chunks] == [["甲"], ["乙"]]


def test_skipped_levels_close_correctly() -> None:
    body = "# T\n\n### 丙\n\n丙。\n\n#### 丁\n\n丁。\n\n### 戊\n\n戊。\n\n## 己\n\n己。\n"
    paths = {c.text: c.headings for c in chunk_document(body, title="T")}
    assert paths == {"丙。": ["丙"], "丁。": ["丙", "丁"], "戊。": ["戊"], "己。": ["己"]}


def test_heading_with_text_on_the_next_line() -> None:
    chunks = chunk_document("## 费用\n申购费0.15%。\n", title="T")
    assert chunks[0].headings == ["费用"] and chunks[0].text == "申购费0.15%。"


def test_html_comments_are_dropped() -> None:
    chunks = chunk_document("# T\n\n<!-- internal note -->\n\n正文。\n", title="T")
    assert [c.text for c in chunks] == ["正文。"]


def test_short_paragraphs_are_packed_together() -> None:
    paras = [f"第{i}段内容简短。" for i in range(5)]
    chunks = chunk_document("## 节\n\n" + "\n\n".join(paras), title="T")
    assert len(chunks) == 1
    assert chunks[0].text == "\n".join(paras)


def test_long_paragraph_splits_at_sentence_ends_within_limits() -> None:
    ends = "。！？；"
    sentences = [f"这是第{i}句话，用来测试长段落按中文句末切分的行为{ends[i % 4]}" for i in range(70)]
    body = "## 长段落\n\n" + "".join(sentences)
    assert len(body) > 3 * MAX_CHARS
    chunks = chunk_document(body, title="T")
    assert len(chunks) >= 3
    for c in chunks:
        assert len(c.text) <= MAX_CHARS
        assert c.text[-1] in ends  # every cut lands after a sentence end
        assert c.headings == ["长段落"]
    assert "".join(c.text.replace("\n", "") for c in chunks) == "".join(sentences)


def test_sentence_without_end_mark_is_hard_cut() -> None:
    body = "甲" * (MAX_CHARS * 2 + 10)
    chunks = chunk_document(body)
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert "".join(c.text for c in chunks) == body


def test_statute_articles_are_one_chunk_each() -> None:
    body = (
        "# 某条例\n\n## 第一章 总则\n\n第一条 为了规范管理，制定本条例。\n\n"
        "第二条 本条例所称关系人是指:\n\n（一）董事；\n\n（二）监事。\n\n"
        "## 第二章 附则\n\n第三条 本条例自公布之日起施行。\n"
    )
    chunks = chunk_document(body, title="某条例")
    assert [c.headings for c in chunks] == [
        ["第一章 总则", "第一条"],
        ["第一章 总则", "第二条"],
        ["第二章 附则", "第三条"],
    ]
    assert "（二）监事。" in chunks[1].text and chunks[1].text.startswith("第二条")


def test_long_article_stays_whole_up_to_its_limit() -> None:
    clause = "商业银行应当按照规定审慎经营并保护存款人的合法权益。" * 30
    assert MAX_CHARS < len(clause) < ARTICLE_MAX_CHARS - 10
    chunks = chunk_document(f"第十条 {clause}\n\n第十一条 短条文。", title="T")
    assert [c.headings for c in chunks] == [["第十条"], ["第十一条"]]
    assert chunks[0].text == f"第十条 {clause}"  # not cut at the ordinary limit


def test_article_longer_than_its_limit_splits_under_the_same_heading() -> None:
    clause = "商业银行应当按照规定审慎经营并保护存款人的合法权益。" * 80
    chunks = chunk_document(f"第十条 {clause}", title="T")
    assert len(chunks) >= 2
    assert all(c.headings == ["第十条"] and len(c.text) <= ARTICLE_MAX_CHARS for c in chunks)


@pytest.fixture(scope="module")
def commercial_bank_law(shared_data: Path) -> tuple[str, list]:
    doc = read_document(shared_data / "laws" / "商业银行法(2015-08-29).md")
    return doc.body, chunk_document(doc.body, doc.meta.title)


def test_commercial_bank_law_article_40(commercial_bank_law: tuple[str, list]) -> None:
    _, chunks = commercial_bank_law
    hits = [c for c in chunks if "第四十条" in c.text]
    assert len(hits) == 1
    art = hits[0]
    assert art.heading.endswith("第四十条")
    assert art.text.startswith("第四十条")
    assert "关系人" in art.text and "近亲属" in art.text  # the definition paragraphs stay in the article
    assert "第四十一条" not in art.text


def test_commercial_bank_law_one_chunk_per_article(commercial_bank_law: tuple[str, list]) -> None:
    body, chunks = commercial_bank_law
    articles = ARTICLE.findall(body)
    assert len(articles) > 90
    article_chunks = [c.headings[-1] for c in chunks if c.headings and ARTICLE.fullmatch(c.headings[-1])]
    assert sorted(article_chunks) == sorted(articles)
    for c in chunks:
        assert "中华人民共和国商业银行法" not in c.headings  # the H1 title is not repeated
        assert len(c.text) <= ARTICLE_MAX_CHARS


def test_empty_body_gives_no_chunks() -> None:
    assert chunk_document("") == []
    assert chunk_document("## 只有标题\n") == []
