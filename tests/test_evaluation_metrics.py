"""Metric formulas against hand-worked examples, plus properties that must hold for any ranking."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.evaluation.metrics import (
    RankingRun,
    category_scores,
    dedupe,
    micro_average,
    ndcg_at_k,
    ranking_metrics,
    recall_at_k,
    recall_curve,
    reciprocal_rank,
    share,
)


def test_dedupe_keeps_first_occurrence_order():
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_at_k_counts_relevant_in_prefix():
    ranked = ["x", "a", "y", "b"]
    assert recall_at_k(ranked, {"a"}, 1) == 0.0
    assert recall_at_k(ranked, {"a"}, 2) == 1.0
    assert recall_at_k(ranked, {"a", "b"}, 2) == 0.5
    assert recall_at_k(ranked, {"a", "b"}, 4) == 1.0


def test_reciprocal_rank():
    assert reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], {"a"}) == 0.0


def test_ndcg_hand_worked():
    # relevant at rank 2 of one relevant: DCG = 1/log2(3), ideal = 1
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    # two relevant at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3))
    assert ndcg_at_k(["a", "x", "b"], {"a", "b"}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # outside the cut-off counts nothing
    assert ndcg_at_k(["x", "y", "a"], {"a"}, 2) == 0.0


def test_empty_relevant_is_an_error():
    with pytest.raises(ValueError):
        recall_at_k(["a"], set(), 1)


def test_ranking_metrics_means_over_runs():
    runs = [RankingRun(["a", "x"], {"a"}), RankingRun(["x", "y", "z", "w", "b"], {"b"})]
    m = ranking_metrics(runs)
    assert m["r@1"] == 0.5
    assert m["r@5"] == 1.0
    assert m["mrr"] == pytest.approx((1 + 1 / 5) / 2)
    assert set(m) == {"r@1", "r@5", "mrr", "ndcg@10"}


@given(
    st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=12, unique=True),
    st.sets(st.sampled_from("abcdefghij"), min_size=1, max_size=3),
)
def test_ranking_properties(ranked, relevant):
    curve = recall_curve([RankingRun(ranked, relevant)], 10)
    assert all(b >= a for a, b in itertools.pairwise(curve))  # recall never drops with k
    assert all(0.0 <= v <= 1.0 for v in curve)
    assert 0.0 <= ndcg_at_k(ranked, relevant, 10) <= 1.0 + 1e-9
    rr = reciprocal_rank(ranked, relevant)
    assert (rr > 0) == bool(relevant & set(ranked))


def test_category_scores_multi_label():
    expected = [{"guarantee"}, {"guarantee", "pii"}, set(), set()]
    predicted = [{"guarantee"}, {"pii"}, {"guarantee"}, set()]
    s = category_scores(expected, predicted)
    g = s["guarantee"]
    assert (g.tp, g.fp, g.fn) == (1, 1, 1)
    assert g.precision == 0.5 and g.recall == 0.5 and g.f1 == 0.5
    p = s["pii"]
    assert (p.tp, p.fp, p.fn) == (1, 0, 0)
    assert p.precision == 1.0 and p.recall == 1.0
    micro = micro_average(s.values())
    assert (micro.tp, micro.fp, micro.fn) == (2, 1, 1)


def test_category_never_predicted_has_zero_precision_and_recall():
    s = category_scores([{"superlative"}], [set()])["superlative"]
    assert s.recall == 0.0 and s.precision == 0.0 and s.f1 == 0.0


def test_category_scores_length_mismatch():
    with pytest.raises(ValueError):
        category_scores([set()], [])


def test_share():
    assert share([True, False, False, True]) == 0.5
    assert share([]) == 0.0
