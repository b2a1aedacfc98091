"""Chinese text normalisation and tokenisation shared by indexing and querying."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jieba

jieba.setLogLevel(60)  # jieba prints its dictionary load to stderr otherwise

# Domain terms jieba would split; keeping them whole sharpens BM25.
DOMAIN_TERMS = (
    "业绩比较基准", "个人养老金", "养老理财", "存款保险", "大额存单", "现金管理类", "风险承受能力",
    "净值型", "定投", "代发工资", "信用卡", "影票日", "半价日", "非法集资", "适当性", "关系人",
    "信用贷款", "担保贷款", "持有期", "封闭期", "理财产品", "风险等级",
)
for _t in DOMAIN_TERMS:
    jieba.add_word(_t)

# Words that carry no retrieval signal in a colloquial question.
_STOPWORD_TEXT = """的 了 吗 呢 吧 啊 呀 么 嘛 是 在 和 与 及 或 也 都 就 还 又
    这 那 这个 那个 哪 哪些 哪个 什么 怎么 怎样
    如何 为什么 是否 能 能不能 可以 可不可以 会 要 想 请问 请 一下 我 你 您 他 她 它 我们 你们 有 没有 个 些
    被 把 给 对 从 向 为 以 及其 其 之 所 等 情况 下 时 中 上 如果 哪种 多少 几 吗？"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~]+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), traditional → simplified, collapse white space."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    return re.sub(r"\s+", " ", text).strip()


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens plus character bigrams, lower-cased, without stop words.

    Bigrams make BM25 robust to segmentation differences between a colloquial question and
    formal text (董事亲属 vs 董事、监事…及其近亲属).
    """
    text = normalize(text).lower()
    tokens: list[str] = []
    for tok in jieba.cut_for_search(text):
        tok = tok.strip()
        if not tok or tok in STOPWORDS or _PUNCT.fullmatch(tok):
            continue
        tokens.append(tok)
    for run in _PUNCT.split(text):
        han = re.findall(r"[\u4e00-\u9fff]+", run)
        for seg in han:
            tokens.extend(seg[i : i + 2] for i in range(len(seg) - 1))
    return tokens
