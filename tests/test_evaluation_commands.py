"""``copilot eval`` end to end, in a subprocess with real configuration: the report files, the exit
codes, and the proof that the gate can fail (a disabled guarantee rule, random ranking)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from copilot.config import CHECKOUT


def run_eval(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", "eval", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def read_report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def copy_content_root(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    for folder in ("knowledge", "guardrails", "eval", "prompts"):
        shutil.copytree(CHECKOUT / folder, root / folder)
    return root


def test_compliance_run_writes_three_reports_and_exits_0(tmp_path):
    out = tmp_path / "out"
    proc = run_eval(
        "--suite", "compliance", "--report", str(out), cwd=tmp_path, COPILOT_DATA_DIR=str(tmp_path / "d")
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    report = read_report(out)
    assert report["ok"] is True and report["suites"][0]["status"] == "ok"
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
    assert "compliance: 通过" in proc.stderr


def sabotaged_model(data_dir: Path, category: str) -> None:
    """The current model with one head silenced (never fires), saved whole and valid into data_dir."""
    import dataclasses

    from copilot.compliance.classifier import load_model, save_model
    from copilot.compliance.combiner import model_directory

    model = load_model(model_directory(None))
    k = model.categories.index(category)
    coef, intercept = model.coef.copy(), model.intercept.copy()
    coef[k], intercept[k] = 0.0, -20.0
    save_model(dataclasses.replace(model, coef=coef, intercept=intercept), data_dir / "compliance")


# Both opinions have to miss for the gate to fail: with the learned second opinion one removed
# guarantee rule is mostly covered by the model, so the model's guarantee head is silenced too.
def test_disabling_a_guarantee_rule_fails_the_gate(tmp_path):
    root = copy_content_root(tmp_path)
    pack = root / "guardrails" / "guarantee.yaml"
    data = yaml.safe_load(pack.read_text(encoding="utf-8"))
    before = len(data["rules"])
    data["rules"] = [r for r in data["rules"] if r["id"] != "guarantee-principal"]
    assert len(data["rules"]) == before - 1
    pack.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    sabotaged_model(tmp_path / "d", "guarantee")

    out = tmp_path / "out"
    proc = run_eval(
        "--suite", "compliance", "--report", str(out),
        cwd=tmp_path, COPILOT_CONTENT_ROOT=str(root), COPILOT_DATA_DIR=str(tmp_path / "d"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    failed = {c["metric"] for c in read_report(out)["suites"][0]["checks"] if not c["ok"]}
    assert "category.guarantee.recall" in failed
    assert "category.guarantee.recall" in proc.stderr


def test_random_ranking_fails_the_gate(tmp_path, mini_shared, kb_settings):
    common = [
        "--suite",
        "retrieval",
        "--shared-data",
        str(mini_shared),
        "--kb-data-dir",
        str(kb_settings.data_dir),
    ]
    env = {"COPILOT_DATA_DIR": str(tmp_path / "d")}
    real = run_eval(*common, "--report", str(tmp_path / "real"), cwd=tmp_path, **env)
    assert real.returncode == 0, real.stderr
    rand = run_eval(*common, "--ranking", "random", "--report", str(tmp_path / "rand"), cwd=tmp_path, **env)
    assert rand.returncode == 1, rand.stderr
    report = read_report(tmp_path / "rand")
    assert report["config"]["ranking"] == "random"
    failed = {c["metric"] for c in report["suites"][0]["checks"] if not c["ok"]}
    assert {"clauses.r@5", "kb.r@5"} <= failed


def test_bad_thresholds_file_exits_2(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("compliance:\n  verdict_accuracy: {min: 2, max: 1}\n", encoding="utf-8")
    proc = run_eval(
        "--suite", "compliance", "--thresholds", str(bad), "--report", str(tmp_path / "o"), cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "verdict_accuracy" in proc.stderr and "min" in proc.stderr


def test_missing_shared_data_exits_2_with_a_report(tmp_path):
    out = tmp_path / "out"
    proc = run_eval(
        "--suite", "retrieval", "--shared-data", str(tmp_path / "nowhere"), "--report", str(out),
        cwd=tmp_path, COPILOT_DATA_DIR=str(tmp_path / "d"),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--shared-data" in proc.stderr
    assert read_report(out)["suites"][0]["status"] == "bad_input"


def test_unknown_suite_is_a_usage_error(tmp_path):
    proc = run_eval("--suite", "vibes", cwd=tmp_path)
    assert proc.returncode == 2


@pytest.mark.slow
def test_html_report_renders_its_charts_in_a_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "out"
    proc = run_eval(
        "--suite", "compliance", "--report", str(out), cwd=tmp_path, COPILOT_DATA_DIR=str(tmp_path / "d")
    )
    assert proc.returncode == 0, proc.stderr
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file://") else None)
        page.goto((out / "report.html").as_uri())
        assert page.locator("#overall").inner_text() == "全部通过"
        charts = page.locator("svg.chart")
        assert charts.count() >= 1
        box = charts.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        widths = page.locator("svg.chart rect.bar").evaluate_all("els => els.map(e => e.getBBox().width)")
        assert len(widths) >= 2 and max(widths) > 100
        browser.close()
    assert outside == []  # self-contained: nothing fetched from anywhere
