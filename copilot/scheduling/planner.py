"""The planner: a segment's calendar, its groups, the holidays and the WeCom cap -> dated posts.

Steps, in order (docs/scheduling.md explains each rule):
1. candidates from the calendar (``candidates``): weekly slots (fixed columns, mix-drawn
   categories), payroll follow-ups after each group's pay day, posts around offline events,
   festival greetings;
2. holiday rules (``filters``): categories not posted on holiday days, a daily maximum, events paused;
3. the WeCom cap per group and month (and optional week/day caps), highest priority first and
   spread over the period, so a tight cap keeps posts evenly apart (``filters``);
4. copy for every kept slot from the drafting writers (``composer``: ``compose_post``), each with
   its own compliance verdict; blocked posts stay in the plan, flagged, with their findings;
5. a WeCom request body per slot for the sidebar to submit after the RM confirms.
Whatever steps 2 and 3 drop is listed in ``Plan.left_out`` with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from copilot.domain import PostSlot, Segment
from copilot.scheduling.calendars import Category, SegmentCalendar, load_calendar, load_holiday_policy
from copilot.scheduling.candidates import Candidate, Source, calendar_candidates
from copilot.scheduling.caps import CapLedger, CapPolicy
from copilot.scheduling.composer import Composer
from copilot.scheduling.filters import LeftOut, apply_cap, apply_holidays, separate
from copilot.scheduling.groups import Group
from copilot.scheduling.holidays import data_years, day_info
from copilot.scheduling.payloads import build_payload
from copilot.segments import segments_of

__all__ = ["CHANNEL_NAMES", "FORMAT_NAMES", "MAX_WEEKS", "LeftOut", "Plan", "PlanError", "PlannedPost", "plan"]

MAX_WEEKS = 26
CHANNEL_NAMES = {"group": "客户群群发", "moments": "客户朋友圈", "one_to_one": "一对一群发"}
FORMAT_NAMES = {
    "text": "文字",
    "image": "图片/海报",
    "video": "短视频",
    "link": "H5 链接",
    "miniprogram": "小程序",
}


class PlanError(ValueError):
    """Bad planner input (unknown segment, weeks out of range, no groups); message in Chinese."""


class PlannedPost(PostSlot):
    """A PostSlot with what the planner knows about why it is there."""

    category: Category
    column: str = ""  # fixed weekly column name, if any
    source: Source = "weekly"
    holiday: str = ""  # Chinese name of the public holiday that day, if any
    event_day: dt.date | None = None  # for posts around an offline event: the event's date
    brief: str = ""
    writer: str = ""


class Plan(BaseModel):
    segment: Segment
    start: dt.date
    end: dt.date  # last planned day, inclusive
    weeks: int
    timezone: str
    send_windows: str  # allowed send windows, as people read them
    cap: CapPolicy
    cap_text: str
    writer: str | None
    groups: list[Group]
    slots: list[PlannedPost] = Field(default_factory=list)
    left_out: list[LeftOut] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    generated_at: dt.datetime

    @property
    def blocked(self) -> list[PlannedPost]:
        return [s for s in self.slots if s.verdict == "block"]


def _segment(segment: str | Segment) -> Segment:
    try:
        return Segment(segment)
    except ValueError as exc:
        raise PlanError(str(exc)) from None


def _brief(c: Candidate) -> str:
    """What the post should say beyond its theme. The template writer prints it as it is, so the
    calendars write it for customers; segment and channel go to compose_post as arguments."""
    return "\n".join(line.strip() for line in c.brief if line.strip())


def _windows_text(cal: SegmentCalendar) -> str:
    weekday = "、".join(str(w) for w in cal.windows) or "全天"
    if cal.weekend_windows is None:
        return weekday
    weekend = "、".join(str(w) for w in cal.weekend_windows) or "全天"
    return f"工作日 {weekday}；周末 {weekend}"


def _validate_inputs(segment: str | Segment, start: dt.date, weeks: int) -> Segment:
    seg = _segment(segment)
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise PlanError(f"开始日期应为日期（YYYY-MM-DD），收到 {start!r}")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise PlanError(f"周数应为 1 到 {MAX_WEEKS} 之间的整数，收到 {weeks!r}")
    return seg


def _groups_for(seg: Segment, groups: list[Group] | None, cal: SegmentCalendar) -> list[Group]:
    if groups is None:
        chosen = list(cal.sample_groups)
        if not chosen:
            raise PlanError(f"{seg.value} 的日历中没有示例群，请用 --groups 指定分组文件")
        return chosen
    chosen = [g for g in groups if g.segment == seg]
    if not chosen:
        raise PlanError(f"分组中没有“{seg.label}”（{seg.value}）的群")
    ids = [g.id for g in chosen]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise PlanError(f"群 id 重复: {dup}")
    return chosen


def plan(
    segment: str | Segment,
    start: dt.date,
    weeks: int,
    groups: list[Group] | None = None,
    cap_policy: CapPolicy | None = None,
    writer: str | None = "template",
    settings: Any = None,
) -> Plan:
    """Plan ``weeks`` weeks of posts for one segment from ``start`` (see the module docstring)."""
    from copilot.config import get_settings

    settings = settings or get_settings()
    with segments_of(settings):  # the segments of this content root, for every model built here
        return _plan(segment, start, weeks, groups, cap_policy, writer, settings)


def _plan(
    segment: str | Segment,
    start: dt.date,
    weeks: int,
    groups: list[Group] | None,
    cap_policy: CapPolicy | None,
    writer: str | None,
    settings: Any,
) -> Plan:
    seg = _validate_inputs(segment, start, weeks)
    cal = load_calendar(seg, settings)
    policy = load_holiday_policy(settings)
    tz = ZoneInfo(cal.timezone)
    cap = cap_policy or CapPolicy()
    targets = _groups_for(seg, groups, cal)
    days = [start + dt.timedelta(days=i) for i in range(7 * weeks)]
    infos = {d: day_info(d) for d in days}

    notes: list[str] = []
    unknown_years = sorted({d.year for d, i in infos.items() if not i.known})
    if unknown_years:
        lo, hi = data_years()
        notes.append(
            f"chinese-calendar 只收录了 {lo}–{hi} 年的法定节假日安排，"
            f"{'、'.join(map(str, unknown_years))} 年的节假日未做调整（周末照常排期），"
            "请在国务院公布安排后更新该包再排期"
        )

    candidates = calendar_candidates(cal, policy, days, infos, targets)
    kept, left = apply_holidays(candidates, cal, policy, tz)
    kept, cap_left = apply_cap(kept, CapLedger(cap, targets), tz)
    separate(kept, cal)
    left += cap_left
    if cap_left:
        notes.append(f"按企业微信群发上限（{cap.describe()}）有 {len(cap_left)} 条未排入，见“未排入”")

    composer = Composer(seg.value, writer, settings)
    slots: list[PlannedPost] = []
    for c in sorted(kept, key=lambda c: (c.day, c.time, -c.priority)):
        brief = _brief(c)
        draft = composer(c.theme, brief, c.channel)
        chat_ids = [g.chat_id for g in c.groups if g.chat_id]
        tags = sorted({t for g in c.groups for t in g.tags})
        slots.append(
            PlannedPost(
                at=dt.datetime.combine(c.day, c.time, tzinfo=tz),
                segment=seg,
                groups=[g.id for g in c.groups],
                channel=c.channel,
                format=c.format,
                theme=c.theme,
                copy=draft["copy"],
                citations=draft["citations"],
                verdict=draft["verdict"],
                findings=draft["findings"],
                payload=build_payload(
                    channel=c.channel,
                    content=draft["copy"],
                    verdict=draft["verdict"],
                    post_format=c.format,
                    attachments=c.attachments,
                    chat_ids=chat_ids if len(chat_ids) == len(c.groups) else [],
                    tags=tags,
                ),
                category=c.category,
                column=c.column,
                source=c.source,
                holiday=c.holiday,
                event_day=c.event_day,
                brief=brief,
                writer=draft["writer"],
            )
        )
    blocked = sum(s.verdict == "block" for s in slots)
    if blocked:
        notes.append(f"{blocked} 条内容未通过合规检查，已标记“拦截”并附检查结果，修改后才能提交")
    return Plan(
        segment=seg,
        start=start,
        end=days[-1],
        weeks=weeks,
        timezone=cal.timezone,
        send_windows=_windows_text(cal),
        cap=cap,
        cap_text=cap.describe(),
        writer=writer,
        groups=targets,
        slots=slots,
        left_out=sorted(left, key=lambda x: x.at),
        notes=notes,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
