"""``copilot schedule``: outputs, files, and exit 2 with a Chinese message on bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import icalendar
import pytest
import typer
from typer.testing import CliRunner

from copilot.scheduling import commands
from copilot.scheduling.calendars import load_calendar

runner = CliRunner()


@pytest.fixture(autouse=True)
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The CLI reads settings from the environment; point it at an empty data directory so the
    real drafting and compliance run without depending on whatever index the checkout holds."""
    from copilot.config import get_settings

    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path_factory.mktemp("no-index")))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keeps `schedule` a subcommand, as in copilot.cli
        pass

    commands.register(app)
    return app


def _run(app: typer.Typer, *args: str):
    return runner.invoke(app, ["schedule", *args])


def test_pension_markdown_two_weeks(app: typer.Typer) -> None:
    r = _run(app, "--segment", "pension", "--start", "2026-12-01", "--weeks", "2", "--format", "md")
    assert r.exit_code == 0, r.output
    assert "| 日期 | 时间 | 渠道 |" in r.stdout
    cal = load_calendar("pension")
    rows = [line.split(" | ") for line in r.stdout.splitlines() if line.startswith("| 12-")]
    assert rows
    for cells in rows:
        day = dt.date(2026, int(cells[0][2:4]), int(cells[0][5:7]))
        hh, mm = map(int, cells[1].split(":"))
        assert cal.allows(dt.time(hh, mm), day.weekday())


def test_credit_card_ics_file(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "cc.ics"
    r = _run(
        app,
        "--segment",
        "credit_card",
        "--start",
        "2026-12-01",
        "--weeks",
        "1",
        "--format",
        "ics",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    assert "已写入" in r.stderr
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    weekday_of = {str(e["summary"]): e.decoded("dtstart").weekday() for e in cal.walk("VEVENT")}
    assert weekday_of["周二早鸟五折"] == 1
    assert weekday_of["周三半价日"] == 2
    assert weekday_of["周四合作商户权益日"] == 3
    assert weekday_of["周五影票日"] == 4


def test_cap_left_out_is_reported(app: typer.Typer) -> None:
    r = _run(app, "-s", "credit_card", "--start", "2026-12-01", "-w", "4", "--cap", "4", "-f", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["left_out"] and all("上限" in lo["reason"] for lo in data["left_out"])
    assert "未排入" in r.stderr
    sends = [s for s in data["slots"] if s["channel"] in ("group", "one_to_one")]
    assert len(sends) == 4


def test_groups_file_and_csv_with_bom(app: typer.Typer, tmp_path: Path) -> None:
    groups = tmp_path / "groups.json"
    groups.write_text(
        json.dumps({"groups": [{"id": "dev", "segment": "payroll", "pay_day": 10, "industry": "互联网"}]}),
        encoding="utf-8",
    )
    out = tmp_path / "plan.csv"
    r = _run(
        app,
        "-s",
        "payroll",
        "--start",
        "2026-12-01",
        "-w",
        "2",
        "--groups",
        str(groups),
        "-f",
        "csv",
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read Chinese
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows and {r["目标群"] for r in rows if r["状态"] == "已排期"} == {"dev"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-s", "vip", "--start", "2026-12-01", "-w", "1"], "未知客群"),
        (["-s", "pension", "--start", "2026-13-01", "-w", "1"], "开始日期"),
        (["-s", "pension", "--start", "下周一", "-w", "1"], "YYYY-MM-DD"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "0"], "周数"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "27"], "周数"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "1", "-f", "pdf"], "输出格式"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "1", "--cap", "0"], "上限"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "1", "--writer", "gpt"], "文案生成方式"),
        (["-s", "pension", "--start", "2026-12-01", "-w", "1", "--groups", "/nonexistent/g.yaml"], "不存在"),
    ],
)
def test_bad_input_exits_2_in_chinese(app: typer.Typer, args: list[str], words: str) -> None:
    r = _run(app, *args)
    assert r.exit_code == 2
    assert words in r.stderr and r.stderr.startswith("错误：")
    assert r.stdout == ""


def test_groups_file_errors_name_the_field(app: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "g.yaml"
    bad.write_text("groups:\n  - {id: a, segment: payroll, pay_day: 40}\n", encoding="utf-8")
    r = _run(app, "-s", "payroll", "--start", "2026-12-01", "-w", "1", "--groups", str(bad))
    assert r.exit_code == 2
    assert "groups[0].pay_day" in r.stderr and str(bad) in r.stderr
    other = tmp_path / "other.yaml"
    other.write_text("groups:\n  - {id: a, segment: pension}\n", encoding="utf-8")
    r = _run(app, "-s", "payroll", "--start", "2026-12-01", "-w", "1", "--groups", str(other))
    assert r.exit_code == 2 and "没有" in r.stderr


def test_registered_in_the_copilot_cli() -> None:
    from copilot.cli import app as copilot_app

    r = runner.invoke(copilot_app, ["schedule", "--help"])
    assert r.exit_code == 0
    assert "--segment" in r.stdout and "--cap" in r.stdout
