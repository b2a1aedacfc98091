"""The CLI (copilot/store/commands.py): ``copilot audit verify|export`` and ``copilot review
list|export``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from store_support import *  # noqa: F403
from store_support import checked_payload, execute, fill
from typer.testing import CliRunner

from copilot.store import AuditStore


def test_cli_verify_and_export(store: AuditStore, db_url: str, tmp_path: Path) -> None:
    from copilot.cli import app

    fill(store, 3)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "3 条" in ok.output
    out = tmp_path / "exports" / "audit.csv"
    res = runner.invoke(app, ["audit", "export", "--format", "csv", "--out", str(out), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 3
    bad = runner.invoke(app, ["audit", "export", "--format", "xml", "--out", str(out), "--db", db_url])
    assert bad.exit_code == 2
    execute(store, "UPDATE audit_log SET payload = REPLACE(payload, '第1条', '第5条') WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_broken_seq"] == 2


def test_cli_review_list_and_export(store: AuditStore, db_url: str, tmp_path: Path) -> None:
    from copilot.cli import app

    flagged = store.record("check", "rm1", checked_payload("这款理财保本保收益，稳赚不赔！", "pension"))
    other = store.record("check", "rm2", checked_payload("请回电 13812345678", "payroll"))
    store.record("check", "rm1", checked_payload("您好，明天网点九点开门。", "pension"))  # clean: not queued
    runner = CliRunner()

    listed = runner.invoke(app, ["review", "list", "--db", db_url, "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.stdout)
    assert body["total"] == 2 and [i["audit_id"] for i in body["items"]] == [other, flagged]
    only = json.loads(runner.invoke(app, ["review", "list", "--db", db_url, "--json", "--category", "guarantee",
                                          "--segment", "pension", "--rm", "rm1"]).stdout)
    assert [i["audit_id"] for i in only["items"]] == [flagged]
    table = runner.invoke(app, ["review", "list", "--db", db_url], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "待复核" in table.stdout and "共 2 条" in table.stdout
    bad = runner.invoke(app, ["review", "list", "--db", db_url, "--category", "nonsense"])
    assert bad.exit_code == 2 and "类别" in bad.output

    store.record_review(flagged, "comp1", "correct", "拦截正确")
    undecided = json.loads(runner.invoke(app, ["review", "list", "--db", db_url, "--json", "--undecided"]).stdout)
    assert [i["audit_id"] for i in undecided["items"]] == [other]

    out = tmp_path / "reviews" / "reviews.jsonl"
    done = runner.invoke(app, ["review", "export", "--db", db_url, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "已导出 1 条" in done.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    ex = json.loads(lines[0])
    assert (ex["id"], ex["expected_verdict"], ex["source"]) == (f"review-{flagged}", "block", "review")
    assert not list(out.parent.glob("*.part"))


def test_cli_review_export_defaults_to_the_content_roots_eval_dir(
    store: AuditStore, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot.cli import app
    from copilot.config import get_settings

    item = store.record("check", "rm1", checked_payload("这款理财保本保收益，稳赚不赔！", "pension"))
    store.record_review(item, "comp1", "wrong", "应为需修改", "revise", ["guarantee"])
    monkeypatch.setenv("COPILOT_CONTENT_ROOT", str(tmp_path / "content"))
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(app, ["review", "export", "--db", db_url])
        assert done.exit_code == 0, done.output
        path = tmp_path / "content" / "eval" / "compliance" / "reviews" / "reviews.jsonl"
        assert json.loads(path.read_text(encoding="utf-8"))["expected_verdict"] == "revise"
    finally:
        get_settings.cache_clear()
