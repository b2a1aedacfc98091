"""A plan as JSON, CSV, iCalendar (RFC 5545) or a Markdown table for people."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from typing import Literal

from copilot.scheduling.calendars import WEEKDAY_NAMES
from copilot.scheduling.planner import CHANNEL_NAMES, FORMAT_NAMES, Plan, PlannedPost

ExportFormat = Literal["json", "csv", "ics", "md"]
FORMATS: tuple[str, ...] = ("json", "csv", "ics", "md")

VERDICT_NAMES = {"pass": "通过", "revise": "已修改", "block": "拦截"}
ICS_PRODID = "-//rm-copilot//posting schedule//ZH"
EVENT_MINUTES = 30  # a slot is a moment in time; calendars show it as a half-hour block


def slot_uid(slot: PlannedPost) -> str:
    """Same slot, same UID, whichever run produced it: calendar clients update instead of duplicating."""
    key = "|".join([slot.segment.value, slot.at.isoformat(), slot.channel, slot.theme, ",".join(slot.groups)])
    return f"{hashlib.sha1(key.encode('utf-8')).hexdigest()[:24]}@rm-copilot"


def _when(at: dt.datetime) -> tuple[str, str, str]:
    return at.strftime("%Y-%m-%d"), WEEKDAY_NAMES[at.weekday()], at.strftime("%H:%M")


def _findings_text(slot: PlannedPost) -> str:
    return "；".join(
        f"[{f.severity}] {f.rule}: {f.message}" + (f"（{f.text}）" if f.text else "") for f in slot.findings
    )


def to_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2, by_alias=True)


CSV_COLUMNS = [
    "状态", "日期", "星期", "时间", "渠道", "形式", "类别", "栏目", "主题", "目标群",
    "合规结论", "检查发现", "文案", "引用", "说明",
]  # fmt: skip


def to_csv(plan: Plan) -> str:
    """One row per planned slot, then one per left-out post with the reason (状态 = 未排入)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s in plan.slots:
        date, weekday, time = _when(s.at)
        w.writerow([
            "已排期", date, weekday, time, CHANNEL_NAMES.get(s.channel, s.channel),
            FORMAT_NAMES.get(s.format, s.format), s.category.value, s.column, s.theme, ";".join(s.groups),
            VERDICT_NAMES[s.verdict], _findings_text(s), s.copy_text,
            ";".join(f"[{c.n}] {c.title}" for c in s.citations), s.payload.get("media_todo", ""),
        ])  # fmt: skip
    for lo in plan.left_out:
        date, weekday, time = _when(lo.at)
        w.writerow([
            "未排入", date, weekday, time, CHANNEL_NAMES.get(lo.channel, lo.channel), "",
            lo.category.value, "", lo.theme, ";".join(lo.groups), "", "", "", "", lo.reason,
        ])  # fmt: skip
    return buf.getvalue()


def _description(slot: PlannedPost) -> str:
    parts = [slot.copy_text.strip() or "（无文案）", "", f"合规结论：{VERDICT_NAMES[slot.verdict]}"]
    if slot.findings:
        parts.append("检查发现：" + _findings_text(slot))
    channel = CHANNEL_NAMES.get(slot.channel, slot.channel)
    parts.append(f"渠道：{channel}；形式：{FORMAT_NAMES.get(slot.format, slot.format)}")
    return "\n".join(parts)


def to_ics(plan: Plan) -> str:
    """RFC 5545 calendar: one VEVENT per slot, DTSTART in the plan's time zone (a VTIMEZONE is
    included), SUMMARY = theme, DESCRIPTION = copy + verdict, a UID stable across runs. The slot's
    channel, format, groups and verdict ride along as X- properties so the file reads back whole."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = plan.segment.label
    cal.add("x-wr-calname", f"{name} 内容排期 {plan.start:%Y-%m-%d}–{plan.end:%Y-%m-%d}")
    cal.add("x-wr-timezone", plan.timezone)
    for s in plan.slots:
        ev = icalendar.Event()
        ev.add("uid", slot_uid(s))
        ev.add("dtstamp", plan.generated_at)
        ev.add("dtstart", s.at)
        ev.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
        ev.add("summary", s.theme)
        ev.add("description", _description(s))
        ev.add("categories", [s.category.value])
        ev.add("x-copilot-segment", s.segment.value)
        ev.add("x-copilot-channel", s.channel)
        ev.add("x-copilot-format", s.format)
        ev.add("x-copilot-groups", ",".join(s.groups))
        ev.add("x-copilot-verdict", s.verdict)
        if s.column:
            ev.add("x-copilot-column", s.column)
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>").strip()


def to_markdown(plan: Plan) -> str:
    name = plan.segment.label
    counts = {k: sum(s.verdict == k for s in plan.slots) for k in VERDICT_NAMES}
    lines = [
        f"# {name} 内容排期（{plan.start:%Y-%m-%d} 至 {plan.end:%Y-%m-%d}，共 {plan.weeks} 周）",
        "",
        f"- 目标群：{'、'.join(f'{g.label}（{g.id}）' for g in plan.groups)}",
        f"- 发送时段：{plan.send_windows}",
        f"- {plan.cap_text}（朋友圈不计入）",
        f"- 共 {len(plan.slots)} 条：合规通过 {counts['pass']} 条，已按建议修改 {counts['revise']} 条，"
        f"拦截 {counts['block']} 条；未排入 {len(plan.left_out)} 条",
        "",
        "| 日期 | 时间 | 渠道 | 形式 | 类别 | 主题 | 合规 | 文案 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in plan.slots:
        date, weekday, time = _when(s.at)
        theme = s.theme + (f"（{s.holiday}）" if s.holiday else "")
        lines.append(
            f"| {date[5:]} {weekday} | {time} | {CHANNEL_NAMES.get(s.channel, s.channel)} | "
            f"{FORMAT_NAMES.get(s.format, s.format)} | {s.category.value} | {_cell(theme)} | "
            f"{VERDICT_NAMES[s.verdict]} | {_cell(s.copy_text)} |"
        )
    if plan.blocked:
        lines += ["", "## 需处理：合规拦截", ""]
        for s in plan.blocked:
            date, weekday, time = _when(s.at)
            lines.append(
                f"- {date} {weekday} {time} {_cell(s.theme)}：{_cell(_findings_text(s)) or '未通过合规检查'}"
            )
    if plan.left_out:
        lines += [
            "",
            "## 未排入",
            "",
            "| 日期 | 时间 | 渠道 | 主题 | 群 | 原因 |",
            "|---|---|---|---|---|---|",
        ]
        for lo in plan.left_out:
            date, weekday, time = _when(lo.at)
            lines.append(
                f"| {date[5:]} {weekday} | {time} | {CHANNEL_NAMES.get(lo.channel, lo.channel)} | "
                f"{_cell(lo.theme)} | {', '.join(lo.groups)} | {_cell(lo.reason)} |"
            )
    if plan.notes:
        lines += ["", "## 说明", ""] + [f"- {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"


def render(plan: Plan, fmt: str) -> str:
    renderers = {"json": to_json, "csv": to_csv, "ics": to_ics, "md": to_markdown}
    if fmt not in renderers:
        raise ValueError(f"不支持的导出格式 {fmt!r}，可选: {', '.join(FORMATS)}")
    return renderers[fmt](plan)
