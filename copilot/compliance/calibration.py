"""Verdict calibration: turn a blocking finding into a ``revise`` where a safe fix exists.

The rules block an expected-return figure because nothing in a regex can tell whether the figure is
the product's benchmark. The product catalogue can: when a sentence gives a named investment
product's own benchmark figure bare (``稳盈180天年化2.30%-2.90%``) or as an expected return
(``预期年化2.10%-2.70%``), the safe fix is the sheet's wording — ``业绩比较基准为年化…`` in place of
the figure, and the sheet's basis with its no-promise sentence appended. A figure that is not the
benchmark, or a sentence naming no product or several with different benchmarks, stays blocked.
"""

from __future__ import annotations

import re

from copilot.compliance.facts import MessageFacts
from copilot.compliance.features import sentence_spans
from copilot.compliance.fixes import FixAction
from copilot.domain import Finding

# Rules whose hit is a figure (or an expected-return word before one), never a forecast or a promise.
BENCHMARK_FIXABLE_RULES = frozenset({"expected-return-term", "expected-return-bare-figure"})
NO_PROMISE = "业绩比较基准不代表产品未来表现，不构成收益承诺"
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*%?\s*(?:[-~～—至到]\s*(\d+(?:\.\d+)?)\s*)?%")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MAX_GAP = 12  # characters between the finding's start and the figure


def _benchmark_figures(benchmark: str) -> frozenset[float] | None:
    """The figures of a plain percentage benchmark (年化2.30%-2.90%); None for an index formula."""
    if "指数" in benchmark or "%" not in benchmark:
        return None
    return frozenset(float(x) for x in _NUMBER.findall(benchmark)) or None


def _basis_sentence(basis: str) -> str:
    basis = basis.strip().rstrip("。；;")
    if not basis:
        return NO_PROMISE + "。"
    if NO_PROMISE[:8] in basis:
        return f"业绩比较基准测算依据：{basis}。"
    return f"业绩比较基准测算依据：{basis}；{NO_PROMISE}。"


Fixes = FixAction | tuple[FixAction, ...] | None
_GAIN = re.compile(r"到手|拿到|落袋|赚|多出|收益是|给您")
_HAN_AMOUNT = re.compile(r"[一二三四五六七八九十两半]+[百千万块个]|百分之")


def states_own_benchmark(sentence: str, facts: MessageFacts) -> bool:
    """Whether ``sentence`` speaks of a benchmark (基准) and every figure in it is the benchmark of an
    investment product of the message: the rules and this module decide such a sentence (bare, as
    an expected return, or with its basis), the model's expected-return head does not."""
    if "基准" not in sentence or _GAIN.search(sentence) or _HAN_AMOUNT.search(sentence):
        return False  # an amount the customer gets (十万…到手一千四): a claim beyond the benchmark
    said = {float(x) for m in _FIGURE.finditer(sentence) for x in m.groups() if x is not None}
    if not said:
        return False
    own: set[float] = set()
    for ref in facts.investment_products:
        own |= _benchmark_figures(ref.product.benchmark) or set()
    return said <= own


def calibrate_benchmark_figures(
    results: list[tuple[Finding, Fixes]], text: str, facts: MessageFacts
) -> list[tuple[Finding, Fixes]]:
    if not any(f.rule in BENCHMARK_FIXABLE_RULES and f.severity == "block" for f, _ in results):
        return results
    products = [r for r in facts.investment_products if _benchmark_figures(r.product.benchmark)]
    if not products:
        return results
    sentences = sentence_spans(text)
    fixes: dict[int, tuple | None] = {}  # sentence index -> (the one edit of its figure, product)

    def fix_for(finding: Finding) -> tuple | None:
        index = next((i for i, (start, end) in enumerate(sentences) if start <= finding.start < end), None)
        if index is None:
            return None
        if index not in fixes:
            fixes[index] = _sentence_fix(sentences[index], finding, text, products, results)
        return fixes[index]

    out = []
    for finding, fix in results:
        if finding.rule in BENCHMARK_FIXABLE_RULES and finding.severity == "block":
            edit = fix_for(finding)
            if edit is not None:
                product = edit[1]
                finding = finding.model_copy(
                    update={
                        "severity": "revise",
                        "message": finding.message + "（该数字是产品的业绩比较基准，已改为基准表述并补充测算依据。）",
                        "suggestion": f"改为：“{edit[0].text}”，并在文末补充测算依据",
                    }
                )
                fix = (edit[0], FixAction("append", text=_basis_sentence(product.benchmark_basis)))
        out.append((finding, fix))
    return out


def _sentence_fix(sentence: tuple[int, int], finding: Finding, text: str, products, results) -> tuple | None:
    s_start, s_end = sentence
    start = min(f.start for f, _ in results if f.rule in BENCHMARK_FIXABLE_RULES and s_start <= f.start < s_end)
    figures = list(_FIGURE.finditer(text, s_start, s_end))
    after = [m for m in figures if m.start() >= start and m.start() - start <= _MAX_GAP + (finding.end - finding.start)]
    if not after:
        return None
    figure = after[0]
    said = frozenset(float(x) for x in figure.groups() if x is not None)
    named = [p for p in products if p.end > p.start and s_start <= p.start < s_end]
    candidates = named or (products if len(products) == 1 else [])
    matching = [p for p in candidates if said <= _benchmark_figures(p.product.benchmark)]
    if len({p.product.benchmark for p in matching}) != 1 or len(figures) != 1:
        return None  # no product, several, a figure that is not the benchmark, or other figures too
    product = matching[0].product
    return FixAction("replace", start, figure.end(), f"业绩比较基准为{product.benchmark}"), product


INTEREST_RULE = "deposit-confusion-interest"
_INTEREST = re.compile(r"利息")


def calibrate_interest_words(
    results: list[tuple[Finding, Fixes]], text: str, facts: MessageFacts, rules
) -> list[tuple[Finding, Fixes]]:
    """``利息`` said of a named investment product (``稳盈180天这半年的利息``) → ``收益``, under the
    rule ``deposit-confusion-interest`` (whose terms only cover ``理财利息``, ``基金的利息`` …). A sentence
    that names a deposit, asks, or already has a finding there is left alone."""
    if "利息" not in text or not facts.investment_products:
        return results
    rule = next((c.rule for c in rules.rules if c.rule.id == INTEREST_RULE), None)
    if rule is None:
        return results
    named = [p for p in facts.investment_products if p.end > p.start]
    # The catalogue's aliases too: RMs write the short form (月月盈 for 薪享月月盈), which the derived
    # short names do not cover.
    aliases = tuple({a for r in facts.investment_products for a in r.product.aliases if len(a) >= 3})
    taken = [(f.start, f.end) for f, _ in results]
    out = list(results)
    for s_start, s_end in sentence_spans(text):
        if not any(s_start <= p.start < s_end for p in named) and not any(a in text[s_start:s_end] for a in aliases):
            continue
        dense = facts.doc.sentence_of(*facts.doc.dense_span(s_start, s_start + 1))
        if facts.lexicons.any_in("deposit_terms", dense) or dense.rstrip("。!?").endswith(("?", "吗")):
            continue
        for m in _INTEREST.finditer(text, s_start, s_end):
            if any(a < m.end() and b > m.start() for a, b in taken):
                continue
            finding = Finding(
                rule=rule.id,
                category=rule.category,
                severity="revise",
                start=m.start(),
                end=m.end(),
                text=m.group(),
                message=rule.message,
                citation=rule.citation,
                suggestion="改为：“收益”",
            )
            out.append((finding, FixAction("replace", m.start(), m.end(), "收益")))
    return out
