"""Thresholds: loading with clear errors, wildcard bounds, writer overrides, missing metrics."""

from __future__ import annotations

import pytest

from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.thresholds import bounds_for, compare, load_thresholds


def _thresholds(tmp_path, text: str):
    p = tmp_path / "thresholds.yaml"
    p.write_text(text, encoding="utf-8")
    return load_thresholds(p)


def test_compare_min_max_and_patterns(tmp_path):
    th = _thresholds(
        tmp_path,
        """
compliance:
  verdict_accuracy: {min: 0.9}
  fpr_compliant: {max: 0.03}
  "category.*.recall": {min: 0.8}
""",
    )
    metrics = {
        "verdict_accuracy": 0.95,
        "fpr_compliant": 0.05,
        "category.guarantee.recall": 0.5,
        "category.pii.recall": 1.0,
    }
    checks = {c.metric: c for c in compare(metrics, th["compliance"])}
    assert checks["verdict_accuracy"].ok
    assert not checks["fpr_compliant"].ok and "上限" in checks["fpr_compliant"].note
    assert not checks["category.guarantee.recall"].ok
    assert checks["category.pii.recall"].ok


def test_missing_metric_fails(tmp_path):
    th = _thresholds(tmp_path, "retrieval:\n  kb.r@5: {min: 0.5}\n")
    (check,) = compare({"clauses.r@5": 1.0}, th["retrieval"])
    assert not check.ok and check.value is None and check.note == "指标缺失"


def test_writer_override(tmp_path):
    th = _thresholds(
        tmp_path,
        "drafting:\n  grounded_rate: {min: 1.0}\n  n: {min: 1}\n"
        "drafting@local:\n  grounded_rate: {min: 0.5}\n",
    )
    assert bounds_for(th, "drafting", "template")["grounded_rate"].min == 1.0
    local = bounds_for(th, "drafting", "local")
    assert local["grounded_rate"].min == 0.5 and local["n"].min == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("retrieval: [1, 2]\n", "retrieval"),
        ("retrieval:\n  r@1: {}\n", "r@1"),
        ("retrieval:\n  r@1: {min: 0.9, max: 0.1}\n", "r@1"),
        ("retrieval:\n  r@1: {minimum: 0.9}\n", "r@1"),
        ("retrieval: {r@1: {min: 0.9}\n", "YAML"),
        ("- a\n", "顶层"),
    ],
)
def test_bad_thresholds_name_the_place(tmp_path, text, needle):
    with pytest.raises(EvalInputError) as exc:
        _thresholds(tmp_path, text)
    assert needle in str(exc.value)


def test_thresholds_file_missing(tmp_path):
    with pytest.raises(EvalInputError, match="不存在"):
        load_thresholds(tmp_path / "nope.yaml")


def test_repo_thresholds_are_valid():
    from copilot.config import CHECKOUT
    from copilot.evaluation.runner import SUITES

    th = load_thresholds(CHECKOUT / "eval" / "thresholds.yaml")
    for suite in th:
        assert suite.split("@")[0] in SUITES
