"""BM25 over jieba tokens and character bigrams."""

from __future__ import annotations

import numpy as np

from copilot.retrieval.keyword import BM25Index

DOCS = [
    "信用卡每周五影票日，热门影院电影票半价，名额有限先到先得。",
    "存款保险对同一存款人在同一家银行的存款本息合计最高赔付五十万元。",
    "养老理财产品是净值型产品，净值会波动，业绩比较基准不代表未来收益。",
    "商业银行不得向关系人发放信用贷款；向关系人发放担保贷款的条件不得优于其他借款人。",
]


def test_document_with_the_query_terms_ranks_first() -> None:
    index = BM25Index.from_texts(DOCS)
    for query, want in [
        ("周五看电影有优惠吗", 0),
        ("存款保险最高赔多少", 1),
        ("养老理财会亏钱吗 净值波动", 2),
        ("银行能给关系人发信用贷款吗", 3),
    ]:
        scores = index.scores(query)
        assert scores.shape == (len(DOCS),)
        assert int(np.argmax(scores)) == want, (query, scores)
        assert scores[want] > 0


def test_unknown_terms_score_zero() -> None:
    index = BM25Index.from_texts(DOCS)
    assert not index.scores("量子纠缠火箭发动机").any()
    assert not index.scores("？？？").any()
    assert not index.scores("").any()


def test_rare_terms_weigh_more_than_common_ones() -> None:
    docs = ["银行 理财", "银行 存款", "银行 基金", "银行 年金"]
    index = BM25Index([d.split() for d in docs])
    scores = index.scores("银行 年金")
    assert int(np.argmax(scores)) == 3
    # 银行 is in every document: its weight is far below the rare term's
    assert scores[3] - scores[0] > scores[0]


def test_repeated_terms_saturate_and_long_documents_are_normalised() -> None:
    index = BM25Index([["养老"], ["养老"] * 10, ["养老", *(["其他"] * 30)]])
    s = index.scores("养老")
    assert s[1] > s[0] > s[2] > 0  # more occurrences help, length hurts
    assert s[1] < 10 * s[0]  # but tf saturates (k1)


def test_empty_index() -> None:
    index = BM25Index([])
    assert index.n == 0
    assert index.scores("养老").shape == (0,)
