"""Thresholds and the three report files, independent of any suite."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.report import CaseFailure, Chart, Report, SuiteResult, to_html, write_report
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
        "drafting:\n  grounded_rate: {min: 1.0}\n  n: {min: 1}\ndrafting@local:\n  grounded_rate: {min: 0.5}\n",
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


def _report(ok: bool) -> Report:
    suite = SuiteResult(
        suite="compliance",
        metrics={"category.保本<承诺>.recall": 0.5 if not ok else 1.0, "verdict_accuracy": 0.9},
        counts={"messages": 2},
        charts=[
            Chart(
                kind="bars",
                title="各类别 precision / recall",
                labels=["保本<承诺>", "pii"],
                series={"precision": [1.0, 0.75], "recall": [0.5, 1.0]},
            ),
            Chart(kind="line", title="recall@k", labels=["1", "2", "3"], series={"kb": [0.5, 0.8, 0.9]}),
        ],
        failures=[CaseFailure(id="m-1", reason="漏检 <script>alert(1)</script>")],
    )
    th_compare = compare(suite.metrics, {"category.*.recall": _bound(0.9)})
    suite.checks = th_compare
    return Report(config={"writer": "template"}, suites=[suite])


def _bound(low: float):
    from copilot.evaluation.thresholds import Bound

    return Bound(min=low)


def test_exit_codes():
    assert _report(ok=True).exit_code == 0
    assert _report(ok=False).exit_code == 1
    bad = Report(suites=[SuiteResult(suite="retrieval", error="找不到", bad_input=True)])
    assert bad.exit_code == 2
    crashed = Report(suites=[SuiteResult(suite="retrieval", error="运行出错")])
    assert crashed.exit_code == 1


def test_write_report_three_files(tmp_path):
    files = write_report(_report(ok=False), tmp_path / "out")
    assert sorted(f.name for f in files) == ["report.html", "report.json", "report.md"]
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["ok"] is False and data["exit_code"] == 1
    assert data["suites"][0]["status"] == "regression"
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "category.保本<承诺>.recall" in md and "❌" in md and "m-1" in md


def test_html_is_self_contained_and_escaped():
    html = to_html(_report(ok=False))
    assert "<script" not in html  # the failure text is escaped, and the page carries no scripts
    assert "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "src=" not in html and "<link" not in html
    # each chart is well-formed SVG with one bar per (label, series) and one point per x
    start = 0
    svgs = []
    while (i := html.find("<svg", start)) != -1:
        j = html.index("</svg>", i) + len("</svg>")
        svgs.append(ET.fromstring(html[i:j]))
        start = j
    assert len(svgs) == 2
    ns = "{http://www.w3.org/2000/svg}"
    bars = svgs[0].findall(f".//{ns}rect[@class='bar']")
    assert len(bars) == 4
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] == pytest.approx(2 * widths[1])  # precision 1.0 vs recall 0.5 of the first label
    assert len(svgs[1].findall(f".//{ns}circle")) == 3
