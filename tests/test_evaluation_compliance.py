"""Compliance suite on the labelled set, and its handling of a broken set."""

from __future__ import annotations

import json
import shutil

import pytest

from copilot.config import CHECKOUT, Settings
from copilot.evaluation import compliance
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.runner import EvalContext, run_suite
from copilot.evaluation.thresholds import load_thresholds


def _content_root(tmp_path):
    root = tmp_path / "content"
    for folder in ("knowledge", "guardrails", "eval", "prompts"):
        shutil.copytree(CHECKOUT / folder, root / folder)
    return root


def test_labelled_set_meets_thresholds(tmp_path):
    ctx = EvalContext(settings=Settings(data_dir=tmp_path / "data"))
    result = run_suite("compliance", ctx, load_thresholds(CHECKOUT / "eval" / "thresholds.yaml"))
    assert result.status == "ok", [c for c in result.checks if not c.ok]
    assert result.counts["messages"] >= 200
    assert result.counts["violating"] > 0 and result.counts["compliant"] > 0
    # every category the set labels gets its own precision/recall, and a bar in the chart
    (chart,) = result.charts
    assert set(chart.labels) == {
        k.removeprefix("support.") for k in result.counts if k.startswith("support.")
    }
    for cat in chart.labels:
        assert f"category.{cat}.recall" in result.metrics


def test_limit_takes_the_first_messages(tmp_path):
    ctx = EvalContext(settings=Settings(data_dir=tmp_path / "data"), limit=5)
    result = compliance.run(ctx)
    assert result.counts["messages"] == 5


def _rewrite(root, change):
    path = root / "eval" / "compliance" / "messages.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    change(rows)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda rows: rows[3].update(categories=["no_such_category"]), "未知类别"),
        (lambda rows: rows[4].update(id=rows[0]["id"]), "id 重复"),
        (lambda rows: rows[5].update(expected_verdict="maybe"), "第 6 行"),
        (lambda rows: rows[6].update(customer_risk="C9"), "第 7 行"),
    ],
)
def test_bad_labelled_set_is_bad_input(tmp_path, change, needle):
    root = _content_root(tmp_path)
    _rewrite(root, change)
    ctx = EvalContext(settings=Settings(content_root=root, data_dir=tmp_path / "data"))
    with pytest.raises(EvalInputError, match=needle):
        compliance.run(ctx)


def test_missing_set_is_bad_input_in_the_report(tmp_path):
    root = _content_root(tmp_path)
    (root / "eval" / "compliance" / "messages.jsonl").unlink()
    ctx = EvalContext(settings=Settings(content_root=root, data_dir=tmp_path / "data"))
    result = run_suite("compliance", ctx, {})
    assert result.status == "bad_input" and "不存在" in result.error
