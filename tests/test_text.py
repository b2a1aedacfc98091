"""The shared text toolkit (copilot/text.py): sentences, bigrams, citation markers."""

from __future__ import annotations

from copilot.text import (
    bigrams,
    cited_numbers,
    renumber_citations,
    sentence_end,
    split_sentences,
    strip_citations,
)


def test_sentences_keep_their_punctuation_markers_and_closing_quotes() -> None:
    text = "业绩比较基准不是收益承诺。[2]他说“别转账。”真的吗？！好"
    assert split_sentences(text) == ["业绩比较基准不是收益承诺。[2]", "他说“别转账。”", "真的吗？！", "好"]
    assert "".join(split_sentences(text)) == text


def test_line_breaks_end_sentences_and_are_not_returned() -> None:
    assert split_sentences("第一行\n第二行。第三句") == ["第一行", "第二行。", "第三句"]
    assert split_sentences("\n\n") == []


def test_ascii_ends_count_and_clauses_split_only_when_asked() -> None:
    assert split_sentences("Hi! 好的?行；再说") == ["Hi!", " 好的?", "行；再说"]
    assert split_sentences("行；再说;完", clauses=True) == ["行；", "再说;", "完"]


def test_sentence_end_finds_the_next_end_or_line_break() -> None:
    text = "甲乙丙。丁\n戊"
    assert sentence_end(text, 0) == 3
    assert sentence_end(text, 4) == 5
    assert sentence_end("没有结尾", 0) == 4


def test_bigrams_skip_punctuation_and_citation_markers() -> None:
    assert bigrams("收益[1]，3.5%") == {"收益", "益3", "3.", ".5", "5%"}
    assert bigrams("甲") == set()
    assert bigrams("存款[12]保险") == bigrams("存款保险")


def test_citations_in_order_of_first_use_and_renumbered() -> None:
    assert cited_numbers("甲[3]乙[1]丙[3]丁[2]") == [3, 1, 2]
    text, mapping = renumber_citations("甲[3]乙[1]丙[3]")
    assert text == "甲[1]乙[2]丙[1]" and mapping == {3: 1, 1: 2}
    assert strip_citations("甲[3]乙[12]") == "甲乙"


def test_sentence_spans_index_the_text_and_end_at_clauses_and_lines() -> None:
    from copilot.text import sentence_spans

    text = " 您好。这款不保本；净值会波动\n  周末见！"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["您好。", "这款不保本；", "净值会波动", "周末见！"]
