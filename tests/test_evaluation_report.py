"""The report model, its exit codes and the three report files, independent of any suite."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from copilot.evaluation.report import CaseFailure, Chart, Report, SuiteResult, to_html, write_report
from copilot.evaluation.thresholds import Bound, compare


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
    suite.checks = compare(suite.metrics, {"category.*.recall": Bound(min=0.9)})
    return Report(config={"writer": "template"}, suites=[suite])


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
