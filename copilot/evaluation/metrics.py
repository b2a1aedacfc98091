"""Metric arithmetic shared by the suites: ranking (recall@k, MRR, nDCG) and labelled classification
(per-category precision/recall/F1, verdict accuracy, false-positive rate).

Pure functions over plain lists so each formula can be tested against a hand-worked example.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each id: several chunks of one document count as one hit."""
    seen: set[str] = set()
    out: list[str] = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant ids found in the first k results (1.0/0.0 when there is one relevant id)."""
    if not relevant:
        raise ValueError("relevant 不能为空")
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    """1/rank of the first relevant id, 0 when none is ranked."""
    for i, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance nDCG@k: DCG of the ranking over the DCG of a perfect one."""
    if not relevant:
        raise ValueError("relevant 不能为空")
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


@dataclass(frozen=True)
class RankingRun:
    """One query: the ids the system ranked (best first) and the ids that are right."""

    ranked: list[str]
    relevant: set[str]


def ranking_metrics(runs: Sequence[RankingRun], ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Mean R@k for each k, MRR and nDCG@10 over the runs, keyed ``r@1``, ``r@5``, ``mrr``, ``ndcg@10``."""
    if not runs:
        raise ValueError("没有可评估的查询")
    out = {f"r@{k}": mean(recall_at_k(r.ranked, r.relevant, k) for r in runs) for k in ks}
    out["mrr"] = mean(reciprocal_rank(r.ranked, r.relevant) for r in runs)
    out["ndcg@10"] = mean(ndcg_at_k(r.ranked, r.relevant, 10) for r in runs)
    return out


def recall_curve(runs: Sequence[RankingRun], max_k: int = 10) -> list[float]:
    """Mean recall at k = 1..max_k (the "recall by k" chart)."""
    return [mean(recall_at_k(r.ranked, r.relevant, k) for r in runs) for k in range(1, max_k + 1)]


@dataclass(frozen=True)
class CategoryScore:
    category: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        # No prediction and nothing to find is perfect precision, not 0: an unused category is no failure.
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if self.fn == 0 else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def category_scores(expected: Sequence[set[str]], predicted: Sequence[set[str]]) -> dict[str, CategoryScore]:
    """Per-category counts from multi-label sets (one expected and one predicted set per message)."""
    if len(expected) != len(predicted):
        raise ValueError("expected 与 predicted 的条数不一致")
    cats = sorted(set().union(*expected, *predicted)) if expected else []
    scores: dict[str, CategoryScore] = {}
    for cat in cats:
        tp = sum(1 for e, p in zip(expected, predicted, strict=True) if cat in e and cat in p)
        fp = sum(1 for e, p in zip(expected, predicted, strict=True) if cat not in e and cat in p)
        fn = sum(1 for e, p in zip(expected, predicted, strict=True) if cat in e and cat not in p)
        scores[cat] = CategoryScore(cat, tp, fp, fn)
    return scores


def micro_average(scores: Iterable[CategoryScore]) -> CategoryScore:
    """Pool the counts of every category (weights frequent categories by their frequency)."""
    items = list(scores)
    return CategoryScore(
        "micro", sum(s.tp for s in items), sum(s.fp for s in items), sum(s.fn for s in items)
    )


def share(flags: Iterable[bool]) -> float:
    """Share of True values; 0.0 for an empty sequence."""
    vals = list(flags)
    return sum(vals) / len(vals) if vals else 0.0
