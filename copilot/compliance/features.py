"""Sentences of a message and the character n-gram features the learned second opinion reads.

A sentence is a span of the original text between ``。！？；`` and line breaks (the boundaries the
rules use). The classifier sees its dense form (``normalize``: full-width folded, simplified,
lower-case, inserted spaces and symbols removed), so ``保 本`` and ``保本`` give the same n-grams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.compliance.normalize import dense_form
from copilot.domain import CheckContext
from copilot.text import sentence_spans  # the toolkit's sentence and clause spans (copilot/text.py)

NGRAM_RANGE = (1, 3)
MIN_SENTENCE_CHARS = 6  # shorter pieces ("好的，谢谢。", "👍") carry no claim the rules would not see


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int  # span in the original text
    end: int
    text: str  # the original wording
    dense: str  # what the classifier reads


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with their spans; the dense form of each is what gets scored."""
    out = []
    for start, end in sentence_spans(text):
        dense = dense_form(text[start:end])
        if len(dense.rstrip(_END_MARKS)) >= MIN_SENTENCE_CHARS:  # an appended "。" must not make it count
            out.append(Sentence(start, end, text[start:end], dense))
    return out


def boilerplate_forms(rules) -> frozenset[str]:
    """Bare forms of the sentences the rules themselves ask for (the disclosure, the
    past-performance warning): appended to almost every message, they carry no claim."""
    from copilot.compliance.normalize import bare_form

    out = set()
    for compiled in rules.rules:
        params = compiled.rule.match.params
        for key in ("required", "warnings"):
            out.update(bare_form(x) for x in params.get(key, []))
        if compiled.rule.fix is not None and compiled.rule.fix.append:
            out.add(bare_form(compiled.rule.fix.append))
    return frozenset(x for x in out if x)


def boilerplate_pieces(rules) -> tuple[str, ...]:
    """The clauses of the required sentences, in dense form (理财非存款, 产品有风险 …)."""
    out = set()
    for compiled in rules.rules:
        params = compiled.rule.match.params
        texts = [*params.get("required", []), *params.get("warnings", [])]
        if compiled.rule.fix is not None and compiled.rule.fix.append:
            texts.append(compiled.rule.fix.append)
        for t in texts:
            out.update(dense_form(p) for p in re.split(r"[、，,；;。]", t) if len(p) >= 4)
    return tuple(sorted(out, key=len, reverse=True))


def is_boilerplate(sentence: Sentence, forms: frozenset[str]) -> bool:
    """Whether the sentence is exactly required wording (punctuation aside): nothing else in it."""
    from copilot.compliance.normalize import bare_form

    return bare_form(sentence.text) in forms


def is_conservative(ctx: CheckContext) -> bool:
    """Suitability wording matters only for a pension customer or a C1/C2 customer."""
    return ctx.segment == "pension" or (ctx.customer_risk or "").upper() in {"C1", "C2"}


# Mask-invariant form: what a claim says does not depend on which product, figure or date it names,
# so these become placeholders before the n-grams are taken (the same function at train and predict
# time: the product names are stored with the model). The model learns "Ⓟ到期只多不少", not the
# product it happened to be written about.
PRODUCT, NUMBER, DATE = "Ⓟ", "Ⓝ", "Ⓓ"
BOTH_FORMS = True
_END_MARKS = "。.!?;,！？；，、~～ "
_HAN_DIGIT = "一二三四五六七八九十两半"
_DATES = re.compile(r"\d{4}[年.\-/]\d{1,2}[月.\-/]\d{1,2}日?|\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月")
_NUMBERS = re.compile(
    rf"百分之[{_HAN_DIGIT}零点]+"  # 百分之三点五
    rf"|[{_HAN_DIGIT}]+点[一二三四五六七八九零]+"  # 三点五, 二点五
    rf"|[{_HAN_DIGIT}]+[百千万]+[{_HAN_DIGIT}]*"  # 三百八, 一千五, 十万
    rf"|[{_HAN_DIGIT}]+(?=个多?点|个百分点|成|块|倍|毛)"  # 三个点, 两成, 三块八
    r"|\d+(?:\.\d+)?"
)


def mask_names(aliases: list[tuple[str, str]]) -> tuple[str, ...]:
    """Product names to mask, longest first: the catalogue's short names and, for a long one, the
    three-character tail RMs also write (薪享月月盈 → 月月盈)."""
    from copilot.compliance.normalize import dense_form

    names = set()
    for alias, _code in aliases:
        dense = dense_form(alias)
        names.add(dense)
        if len(dense) >= 5 and all("\u4e00" <= ch <= "\u9fff" for ch in dense[-3:]):
            names.add(dense[-3:])
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


def make_masker(names: tuple[str, ...]):
    """dense sentence → its mask-invariant form (products Ⓟ, dates Ⓓ, figures Ⓝ)."""
    product = re.compile("|".join(re.escape(n) for n in names)) if names else None

    def mask(dense: str) -> str:
        # The end punctuation carries no claim, and a fix that appends a sentence adds one ("…收益" →
        # "…收益。"): the revised text must not score differently for it.
        dense = dense.rstrip(_END_MARKS)
        masked = product.sub(PRODUCT, dense) if product is not None else dense
        masked = _NUMBERS.sub(NUMBER, _DATES.sub(DATE, masked))
        return masked if masked == dense or not BOTH_FORMS else dense + "\n" + masked

    return mask


def make_vectorizer(vocabulary: dict[str, int] | None = None, names: tuple[str, ...] = ()):
    """The featurizer: TF-IDF over character 1–3-grams of the mask-invariant dense sentence."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char",
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        lowercase=False,  # the dense form is already folded
        preprocessor=make_masker(names),
        vocabulary=vocabulary,
        dtype=np.float32,
    )
