"""Chinese text normalisation and tokenisation."""

from __future__ import annotations

from copilot.retrieval.text import DOMAIN_TERMS, STOPWORDS, normalize, tokenize


def test_full_width_becomes_half_width() -> None:
    assert normalize("ＡＢＣ１２３％") == "ABC123%"
    assert normalize("年化３．５％，Ｒ２级") == "年化3.5%,R2级"


def test_traditional_becomes_simplified() -> None:
    assert normalize("銀行理財產品風險等級") == "银行理财产品风险等级"
    assert normalize("個人養老金資金與儲蓄") == "个人养老金资金与储蓄"


def test_white_space_is_collapsed() -> None:
    assert normalize("  养老\u3000\u3000理财\n\n\t产品 ") == "养老 理财 产品"
    assert normalize(" \n ") == ""


def test_tokens_drop_stop_words_and_punctuation() -> None:
    tokens = tokenize("请问，老人适合买什么理财的吗？")
    assert "理财" in tokens and "老人" in tokens and "适合" in tokens
    for stop in ("的", "吗", "买"):  # single characters never come back as bigrams
        assert (stop in tokens) == (stop not in STOPWORDS)
    assert not any(t in {"，", "？", ",", "?"} for t in tokens)
    # jieba's word is dropped, only the character bigram stays: 什么 counts once, 理财 twice
    assert tokens.count("什么") == 1 and tokens.count("请问") == 1
    assert tokens.count("理财") == 2 and tokens.count("老人") == 2


def test_tokens_are_lower_cased_and_normalised() -> None:
    tokens = tokenize("Ｒ４ ETF 基金")
    assert "r4" in tokens and "etf" in tokens
    assert tokenize("銀行理財") == tokenize("银行理财")


def test_character_bigrams_bridge_segmentation() -> None:
    """A colloquial question and formal text share bigrams even where jieba splits differently."""
    question = set(tokenize("董事亲属"))
    statute = set(tokenize("董事、监事、管理人员及其近亲属"))
    assert {"董事", "亲属"} <= question
    assert "亲属" in statute  # the bigram inside 近亲属
    assert question & statute >= {"董事", "亲属"}
    # bigrams never cross punctuation
    assert "事监" not in statute


def test_domain_terms_stay_whole() -> None:
    for term in ("业绩比较基准", "个人养老金", "大额存单", "关系人"):
        assert term in DOMAIN_TERMS
        assert term in tokenize(f"关于{term}的说明")


def test_empty_and_punctuation_only_text() -> None:
    assert tokenize("") == []
    assert tokenize("？！。，") == []
