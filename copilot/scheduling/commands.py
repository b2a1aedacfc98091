"""``copilot schedule``: a segment's posting plan as JSON, CSV, iCalendar or Markdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

FORMATS = ("json", "csv", "ics", "md")
WRITERS = ("template", "local", "openai", "auto")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误：{message}", err=True)
    return typer.Exit(2)


def schedule(
    segment: str = typer.Option(
        ..., "--segment", "-s", help="客群 id（见 prompts/segments.yaml），如 pension、payroll"
    ),
    start: str = typer.Option(..., "--start", help="开始日期 YYYY-MM-DD"),
    weeks: int = typer.Option(..., "--weeks", "-w", help="排期周数（1–26）"),
    groups_file: Path | None = typer.Option(
        None, "--groups", help="分组文件（YAML/JSON），缺省用日历中的示例群"
    ),
    cap: int | None = typer.Option(None, "--cap", help="每个客户/客户群每月企业群发上限（缺省为当月天数）"),
    cap_week: int | None = typer.Option(None, "--cap-week", help="每周上限（如 7）"),
    cap_day: int | None = typer.Option(None, "--cap-day", help="每天上限（如 1）"),
    writer: str = typer.Option("template", "--writer", help="文案生成方式：template / local / openai / auto"),
    fmt: str = typer.Option("md", "--format", "-f", help="输出格式：json / csv / ics / md"),
    out: Path | None = typer.Option(None, "--out", "-o", help="输出文件；缺省打印到屏幕"),
) -> None:
    """按客群日历生成排期：每条内容都经过合规检查，超出企业微信群发上限的会列出未排入原因。"""
    from pydantic import ValidationError

    from copilot.scheduling.caps import CapPolicy
    from copilot.scheduling.errors import CalendarError
    from copilot.scheduling.exports import render
    from copilot.scheduling.groups import load_groups
    from copilot.scheduling.planner import MAX_WEEKS, PlanError, plan
    from copilot.segments import SegmentsFileError, UnknownSegment, load_segments

    try:
        load_segments().require(segment)
    except (UnknownSegment, SegmentsFileError) as exc:
        raise _fail(str(exc)) from None
    try:
        start_date = dt.date.fromisoformat(start.strip())
    except ValueError:
        raise _fail(f"开始日期 {start!r} 无效，应写作 YYYY-MM-DD，例如 2026-12-01") from None
    if not 1 <= weeks <= MAX_WEEKS:
        raise _fail(f"周数应在 1 到 {MAX_WEEKS} 之间，收到 {weeks}")
    if fmt not in FORMATS:
        raise _fail(f"不支持的输出格式 {fmt!r}，可选：{', '.join(FORMATS)}")
    if writer not in WRITERS:
        raise _fail(f"未知的文案生成方式 {writer!r}，可选：{', '.join(WRITERS)}")
    try:
        policy = CapPolicy(per_month=cap, per_week=cap_week, per_day=cap_day)
    except ValidationError:
        raise _fail("群发上限应为正整数：--cap 1–31，--cap-week 1–217，--cap-day 1–31") from None
    try:
        groups = load_groups(groups_file) if groups_file is not None else None
        result = plan(segment, start_date, weeks, groups=groups, cap_policy=policy, writer=writer)
    except (CalendarError, PlanError) as exc:
        raise _fail(str(exc)) from None
    text = render(result, fmt)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            # Excel opens a UTF-8 CSV as Chinese only with the byte-order mark.
            out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        except OSError as exc:
            raise _fail(f"无法写入 {out}：{exc.strerror or exc}") from None
        typer.echo(f"已写入 {out}：{len(result.slots)} 条排期，{len(result.left_out)} 条未排入", err=True)
    if result.left_out:
        typer.echo(
            f"提示：{len(result.left_out)} 条因群发上限或节假日规则未排入，原因见输出的“未排入”部分", err=True
        )
    if result.blocked:
        typer.echo(f"注意：{len(result.blocked)} 条未通过合规检查，已标记为拦截，修改后才能提交", err=True)


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule)
