"""`copilot ingest` and `copilot search`: output, JSON shape and exit codes (0 ok, 1 failed files
or empty index, 2 bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from copilot.config import get_settings
from copilot.retrieval.commands import register

PRODUCT = """---
id: product-qh-cli-001
title: 青禾安心养老理财
type: product
product_code: QH-CLI-001
risk_level: R2
segments: [pension]
version: "2026.2"
effective_date: 2026-02-01
---

# 青禾安心养老理财

## 适合人群

适合退休后追求稳健收益的老年客户，风险等级R2，净值会波动。
"""

SCRIPT = """---
id: script-cli-movie
title: 周五影票日话术
type: script
segments: [credit_card]
approval_no: "青禾合规〔2026〕话术第099号"
---

每周五持青禾信用卡在合作影院购票享半价优惠，每人每周限一张。
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A content root with a small knowledge/ folder and its own data dir, through COPILOT_* only."""
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "pension.md").write_text(PRODUCT, encoding="utf-8")
    (kb / "movie.md").write_text(SCRIPT, encoding="utf-8")
    monkeypatch.setenv("COPILOT_CONTENT_ROOT", str(tmp_path))
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def test_ingest_then_search_json(env: Path) -> None:
    first = run("ingest", "--quiet")
    assert first.exit_code == 0, first.output
    assert "新增 2" in first.stdout and "失败 0" in first.stdout
    assert (env / "data" / "index").is_dir()  # written to COPILOT_DATA_DIR

    second = run("ingest", "-q")
    assert second.exit_code == 0 and "未变 2" in second.stdout and "嵌入 0 个片段" in second.stdout

    result = run("search", "老人适合买什么理财", "--segment", "pension", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert [h["doc_id"] for h in hits] == ["product-qh-cli-001"]  # the credit-card script is filtered out
    top = hits[0]
    assert top["source_path"] == "knowledge/pension.md"
    assert top["heading"] == "适合人群"
    assert top["version"] == "2026.2" and top["effective_date"] == "2026-02-01"
    assert top["score"] > 0 and "老年客户" in top["text"]


def test_search_options(env: Path) -> None:
    assert run("ingest", "-q").exit_code == 0
    by_type = json.loads(run("search", "看电影优惠", "--type", "script", "--json").stdout)
    assert [h["doc_id"] for h in by_type] == ["script-cli-movie"]
    by_product = json.loads(run("search", "理财", "--product", "qh-cli-001", "--json").stdout)
    assert [h["product_code"] for h in by_product] == ["QH-CLI-001"]
    top1 = json.loads(run("search", "看电影优惠", "-k", "1", "--json").stdout)
    assert len(top1) == 1 and top1[0]["doc_id"] == "script-cli-movie"


def test_search_plain_output_shows_provenance(env: Path) -> None:
    note = "# 附注[bold]\n\n风险提示[red]理财非存款[/red]，投资需谨慎。\n"
    (env / "knowledge" / "note.md").write_text(note, encoding="utf-8")
    assert run("ingest", "-q").exit_code == 0
    result = run("search", "老人适合买什么理财", "-k", "1")
    assert result.exit_code == 0
    out = result.stdout
    assert "青禾安心养老理财" in out and "knowledge/pension.md" in out and "适合人群" in out
    assert "版本 2026.2" in out
    # knowledge text that looks like rich markup is printed as written
    out = run("search", "理财非存款 风险提示", "-k", "1").stdout
    assert "[red]理财非存款[/red]" in out and "附注[bold]" in out


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_exits_2(env: Path, query: str) -> None:
    result = run("search", query)
    assert result.exit_code == 2
    assert "查询为空" in result.stderr


def test_bad_options_exit_2(env: Path) -> None:
    assert run("search", "理财", "--segment", "students").exit_code == 2
    assert run("search", "理财", "-k", "0").exit_code == 2


def test_search_before_ingest_exits_1(env: Path) -> None:
    result = run("search", "理财")
    assert result.exit_code == 1
    assert "copilot ingest" in result.stderr


def test_failed_files_exit_1_and_are_named(env: Path) -> None:
    broken_md = "---\nid: b\ntitle: 坏文件\nrisk_level: R7\n---\n正文。\n"
    (env / "knowledge" / "broken.md").write_text(broken_md, encoding="utf-8")
    (env / "knowledge" / "blank.txt").write_bytes(b"")
    result = run("ingest", "-q")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    broken = next(line for line in lines if "broken.md" in line)
    assert str(env / "knowledge" / "broken.md") in broken  # the full path, on one line
    assert "[risk_level]" in broken and "R7" in broken  # the field name survives rich markup
    blank = next(line for line in lines if "blank.txt" in line)
    assert "文件为空" in blank
    assert "新增 2" in result.stdout and "失败 2" in result.stdout  # the good files went in
    hits = json.loads(run("search", "老人理财", "--json").stdout)
    assert {h["doc_id"] for h in hits} == {"product-qh-cli-001", "script-cli-movie"}


def test_ingest_named_paths(env: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("网点周边客户乒乓球友谊赛报名方式：到网点登记。\n", encoding="utf-8")
    result = run("ingest", "-q", str(other))
    assert result.exit_code == 0 and "新增 1" in result.stdout
    hits = json.loads(run("search", "乒乓球比赛怎么报名", "--json").stdout)
    assert [h["title"] for h in hits] == ["note"]
    missing = run("ingest", "-q", str(tmp_path / "missing"))
    assert missing.exit_code == 1 and "missing" in missing.stderr


def test_console_script_with_a_second_data_dir(tmp_path: Path) -> None:
    """The installed `copilot` entry point, in a fresh process, on a data dir given by environment."""
    exe = Path(sys.executable).parent / "copilot"
    folder = tmp_path / "some-folder"
    folder.mkdir()
    (folder / "cc.md").write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path / "kb2")}
    ingest = subprocess.run([str(exe), "ingest", "-q", str(folder)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    assert "新增 1" in ingest.stdout
    search = subprocess.run([str(exe), "search", "周五电影半价", "--json"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert search.returncode == 0, search.stderr
    assert [h["doc_id"] for h in json.loads(search.stdout)] == ["script-cli-movie"]
