"""The planner: a segment's calendar, its groups, the holidays and the WeCom cap -> dated posts.

Steps, in order (docs/scheduling.md explains each rule):
1. candidates from the calendar: weekly slots (fixed columns, mix-drawn categories), payroll
   follow-ups after each group's pay day, posts around offline events, festival greetings;
2. holiday rules: categories not posted on holiday days, a daily maximum, events paused;
3. the WeCom cap per group and month (and optional week/day caps), highest priority first and
   spread over the period, so a tight cap keeps posts evenly apart;
4. copy for every kept slot from the drafting writers (``compose_post``), each with its own
   compliance verdict; blocked posts stay in the plan, flagged, with their findings;
5. a WeCom request body per slot for the sidebar to submit after the RM confirms.
Whatever steps 2 and 3 drop is listed in ``Plan.left_out`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from copilot.domain import Finding, PostSlot, Segment
from copilot.scheduling.calendars import (
    WEEKDAY_NAMES,
    WEEKDAYS,
    Attachment,
    Category,
    HolidayPolicy,
    SegmentCalendar,
    load_calendar,
    load_holiday_policy,
)
from copilot.scheduling.caps import COUNTED_CHANNELS, CapLedger, CapPolicy
from copilot.scheduling.groups import Group
from copilot.scheduling.holidays import DayInfo, data_years, day_info, shift_to_workday
from copilot.scheduling.payloads import build_payload
from copilot.segments import segments_of

log = logging.getLogger(__name__)

MAX_WEEKS = 26
Source = Literal["weekly", "payday", "event", "holiday", "solar_term"]

# Which post wins when a holiday limit or the cap forces a choice.
PRIORITY: dict[str, int] = {
    "holiday": 100,
    "column": 80,
    "payday": 70,
    "event": 60,
    "solar_term": 50,
    "weekly": 30,
}

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


class LeftOut(BaseModel):
    at: dt.datetime
    theme: str
    category: Category
    channel: str
    groups: list[str] = Field(default_factory=list)
    rule: Literal["cap", "holiday"]
    reason: str


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


@dataclass
class _Candidate:
    day: dt.date
    time: dt.time
    category: Category
    theme: str
    channel: str
    format: str
    source: Source
    groups: list[Group]
    column: str = ""
    auto: bool = False  # category drawn from the mix (a solar-term greeting may take its place)
    brief: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    event_day: dt.date | None = None
    holiday: str = ""

    @property
    def priority(self) -> int:
        return PRIORITY["column"] if self.column else PRIORITY[self.source]


def _segment(segment: str | Segment) -> Segment:
    try:
        return Segment(segment)
    except ValueError as exc:
        raise PlanError(str(exc)) from None


class _MixDrawer:
    """Smooth weighted round-robin over the mix: deterministic and as even as the weights allow."""

    def __init__(self, mix: dict[Category, int]):
        self.mix = mix
        self.current = dict.fromkeys(mix, 0)

    def next(self) -> Category:
        total = sum(self.mix.values())
        for cat, weight in self.mix.items():
            self.current[cat] += weight
        best = max(self.current, key=lambda c: self.current[c])
        self.current[best] -= total
        return best


def _weekly(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[_Candidate]:
    drawer = _MixDrawer(cal.mix) if cal.mix else None
    next_theme: dict[Category, int] = defaultdict(int)
    out: list[_Candidate] = []
    for day in days:
        for spec in sorted(cal.weekly.get(WEEKDAYS[day.weekday()], []), key=lambda s: s.time):
            auto = spec.category == "auto"
            cat = drawer.next() if auto and drawer else Category(spec.category)
            theme, brief = spec.theme, spec.brief
            if not theme:
                pool = cal.themes[cat]
                pick = pool[next_theme[cat] % len(pool)]
                next_theme[cat] += 1
                theme, brief = pick.theme, "；".join(b for b in (brief, pick.brief) if b)
            out.append(
                _Candidate(
                    day=day,
                    time=spec.time,
                    category=cat,
                    theme=theme,
                    channel=spec.channel or cal.default_channel,
                    format=spec.format or cal.default_format,
                    source="weekly",
                    groups=groups,
                    column=spec.column,
                    auto=auto,
                    brief=[brief] if brief else [],
                    attachments=list(spec.attachments),
                )
            )
    return out


def _paydays(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[_Candidate]:
    if not cal.payday:
        return []
    first, last = days[0], days[-1]
    plan_days = set(days)
    months: list[tuple[int, int]] = []
    cursor = dt.date(first.year, first.month, 1) - dt.timedelta(days=1)  # follow-ups of last month's pay day
    cursor = dt.date(cursor.year, cursor.month, 1)
    while cursor <= last + dt.timedelta(days=10):  # next month's pay day may be announced the day before
        months.append((cursor.year, cursor.month))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    buckets: dict[tuple[dt.date, int, str], list[Group]] = defaultdict(list)
    pay_dates: dict[tuple[dt.date, int, str], dt.date] = {}
    for g in groups:
        pay_day = g.pay_day or cal.payday.default_pay_day
        for year, month in months:
            last_day = (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            nominal = dt.date(year, month, min(pay_day, last_day.day))
            paid = shift_to_workday(nominal, cal.payday.shift)
            for i, f in enumerate(cal.payday.followups):
                day = paid + dt.timedelta(days=f.offset_days)
                if day in plan_days:
                    key = (day, i, f.by_industry.get(g.industry, f.theme))
                    buckets[key].append(g)
                    pay_dates[key] = paid
    out: list[_Candidate] = []
    for (day, i, theme), members in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        f = cal.payday.followups[i]
        paid = pay_dates[(day, i, theme)]
        brief = [f"本月工资发放日：{paid.month}月{paid.day}日（{WEEKDAY_NAMES[paid.weekday()]}）。"]
        if f.brief:
            brief.append(f.brief)
        out.append(
            _Candidate(
                day=day,
                time=f.time,
                category=f.category,
                theme=theme,
                channel=f.channel or cal.default_channel,
                format=f.format or cal.default_format,
                source="payday",
                groups=members,
                brief=brief,
                attachments=list(f.attachments),
            )
        )
    return out


def _events(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[_Candidate]:
    if not cal.events:
        return []
    plan_days = set(days)
    out: list[_Candidate] = []
    for ev in cal.events:
        lo = min(p.offset_days for p in ev.posts)
        hi = max(p.offset_days for p in ev.posts)
        occ = days[0] - dt.timedelta(days=hi)
        while occ <= days[-1] - dt.timedelta(days=lo):
            iso_week = occ.isocalendar()[1]
            if WEEKDAYS[occ.weekday()] == ev.weekday and iso_week % ev.every_weeks == ev.week_offset:
                fields = {
                    "title": ev.title,
                    "hobby": ev.hobby,
                    "location": ev.location,
                    "date": f"{occ.month}月{occ.day}日",
                    "weekday": WEEKDAY_NAMES[occ.weekday()],
                    "time": f"{ev.time:%H:%M}",
                    "persona": cal.rm_persona,
                }
                for post in ev.posts:
                    day = occ + dt.timedelta(days=post.offset_days)
                    if day not in plan_days:
                        continue
                    brief = [cal.rm_persona] if cal.rm_persona else []
                    brief.append(
                        f"{ev.title}：{fields['date']}（{fields['weekday']}）{fields['time']}"
                        + (f"，地点：{ev.location}" if ev.location else "")
                        + "。"
                    )
                    if post.brief:
                        brief.append(post.brief.format_map(fields))
                    out.append(
                        _Candidate(
                            day=day,
                            time=post.time,
                            category=post.category,
                            theme=post.theme.format_map(fields),
                            channel=post.channel or cal.default_channel,
                            format=post.format or cal.default_format,
                            source="event",
                            groups=groups,
                            brief=brief,
                            attachments=list(post.attachments),
                            event_day=occ,
                        )
                    )
            occ += dt.timedelta(days=1)
    return out


def _greetings(
    cal: SegmentCalendar,
    policy: HolidayPolicy,
    days: list[dt.date],
    infos: dict[dt.date, DayInfo],
    groups: list[Group],
    candidates: list[_Candidate],
) -> list[_Candidate]:
    """Festival greetings on the first planned day of each holiday; solar-term greetings take the
    place of that day's first mix-drawn post (so they add no post of their own)."""
    out: list[_Candidate] = []
    for day in days:
        info = infos[day]
        if info.holiday:
            rule = policy.resolve(info.holiday, cal.holidays)
            name = policy.names[info.holiday]
            if rule.greeting and name.greeting and (info.first_day or day == days[0]):
                out.append(
                    _Candidate(
                        day=day,
                        time=cal.greeting_time_on(day),
                        category=Category.festival,
                        theme=name.greeting,
                        channel=cal.greeting_channel or cal.default_channel,
                        format=cal.default_format,
                        source="holiday",
                        groups=groups,
                        brief=[name.brief] if name.brief else [],
                    )
                )
        elif info.solar_term in policy.solar_terms:
            auto = next((c for c in candidates if c.day == day and c.auto), None)
            if auto is not None:
                auto.category = Category.festival
                auto.theme = policy.solar_terms[info.solar_term]
                auto.source = "solar_term"
                auto.brief = []
                auto.attachments = []
    return out


def _left(c: _Candidate, tz: ZoneInfo, rule: Literal["cap", "holiday"], reason: str, groups=None) -> LeftOut:
    return LeftOut(
        at=dt.datetime.combine(c.day, c.time, tzinfo=tz),
        theme=c.theme,
        category=c.category,
        channel=c.channel,
        groups=[g.id for g in (c.groups if groups is None else groups)],
        rule=rule,
        reason=reason,
    )


def _apply_holidays(
    candidates: list[_Candidate], cal: SegmentCalendar, policy: HolidayPolicy, tz: ZoneInfo
) -> tuple[list[_Candidate], list[LeftOut]]:
    kept: list[_Candidate] = []
    left: list[LeftOut] = []
    by_day: dict[dt.date, list[_Candidate]] = defaultdict(list)
    for c in candidates:
        info = day_info(c.day)
        if c.event_day is not None:
            ev_info = day_info(c.event_day)
            if ev_info.holiday and not policy.resolve(ev_info.holiday, cal.holidays).keep_events:
                cn = policy.names[ev_info.holiday].name
                left.append(_left(c, tz, "holiday", f"活动日 {c.event_day:%m-%d} 在{cn}假期内，线下活动暂停"))
                continue
        if info.holiday:
            rule = policy.resolve(info.holiday, cal.holidays)
            cn = policy.names[info.holiday].name
            c.holiday = cn
            if c.source != "holiday" and c.category in (rule.drop_categories or []):
                left.append(_left(c, tz, "holiday", f"{cn}假期不发“{c.category}”类内容"))
                continue
        by_day[c.day].append(c)
    for day in sorted(by_day):
        todays = sorted(by_day[day], key=lambda c: (-c.priority, c.time))
        info = day_info(day)
        limit = len(todays)
        if info.holiday:
            limit = policy.resolve(info.holiday, cal.holidays).max_posts_per_day or 0
        for i, c in enumerate(todays):
            if i < limit:
                kept.append(c)
            else:
                cn = policy.names[info.holiday].name if info.holiday else ""
                left.append(
                    _left(c, tz, "holiday", f"{cn}假期每天最多 {limit} 条，优先保留节日问候和固定栏目")
                )
    return kept, left


def _spread_order(same: list[_Candidate]) -> list[_Candidate]:
    """Posts of one priority in the order a tight cap should keep them: farthest-point first, so
    any first k are spread over the period; among near-equal distances (within two days) a theme
    kept less often wins, so a cap of 4 keeps four different weekly columns, not four Tuesdays."""
    if not same:
        return []
    remaining = sorted(same, key=lambda c: (c.day, c.time))
    order = [remaining.pop(0)]
    nearest = [abs((c.day - order[0].day).days) for c in remaining]
    used: Counter[str] = Counter({order[0].theme: 1})
    while remaining:
        best = max(range(len(remaining)), key=lambda i: (nearest[i] // 2, -used[remaining[i].theme], -i))
        pick = remaining.pop(best)
        nearest.pop(best)
        order.append(pick)
        used[pick.theme] += 1
        nearest = [min(d, abs((c.day - pick.day).days)) for d, c in zip(nearest, remaining, strict=True)]
    return order


def _apply_cap(
    candidates: list[_Candidate], ledger: CapLedger, tz: ZoneInfo
) -> tuple[list[_Candidate], list[LeftOut]]:
    counted = [c for c in candidates if c.channel in COUNTED_CHANNELS]
    free = [c for c in candidates if c.channel not in COUNTED_CHANNELS]
    by_priority: dict[int, list[_Candidate]] = defaultdict(list)
    for c in sorted(counted, key=lambda c: (c.day, c.time)):
        by_priority[c.priority].append(c)
    order: list[_Candidate] = []
    for prio in sorted(by_priority, reverse=True):
        order += _spread_order(by_priority[prio])
    kept: list[_Candidate] = list(free)
    left: list[LeftOut] = []
    for c in order:
        ok: list[Group] = []
        refused: dict[str, list[Group]] = defaultdict(list)
        for g in c.groups:
            why = ledger.refusal(g.id, c.day)
            if why is None:
                ok.append(g)
            else:
                refused[why].append(g)
        for g in ok:
            ledger.take(g.id, c.day)
        for why, gs in refused.items():
            left.append(_left(c, tz, "cap", f"企业微信群发上限：{why}", groups=gs))
        if ok:
            c.groups = ok
            kept.append(c)
    return kept, left


def _separate(candidates: list[_Candidate], cal: SegmentCalendar) -> None:
    """Posts to the same group at the same minute arrive as a pile; move the lower-priority one
    later in 15-minute steps (up to two hours) while it stays inside the day's windows."""
    taken: dict[tuple[dt.date, dt.time], set[str]] = defaultdict(set)
    for c in sorted(candidates, key=lambda c: (c.day, -c.priority, c.time)):
        ids = {g.id for g in c.groups}
        t = c.time
        for _ in range(9):
            if not taken[(c.day, t)] & ids:
                c.time = t
                break
            moved = (dt.datetime.combine(c.day, t) + dt.timedelta(minutes=15)).time()
            if moved < t or not cal.allows(moved, c.day.weekday()):
                break
            t = moved
        taken[(c.day, c.time)] |= ids


def _internal_block(message: str) -> Finding:
    return Finding(
        rule="scheduling.compose_failed",
        category="internal",
        severity="block",
        start=0,
        end=0,
        text="",
        message=message,
    )


class _Composer:
    """compose_post with a per-plan cache: one call per distinct (theme, brief, channel)."""

    def __init__(self, segment: Segment, writer: str | None, settings: Any):
        self.segment = segment
        self.writer = writer
        self.settings = settings
        self.cache: dict[tuple[str, str], Any] = {}
        try:
            from copilot.drafting import compose_post
        except ImportError as exc:  # fail closed: every post blocked, the plan says why
            log.error("copilot.drafting unavailable: %s", exc)
            self.compose_post = None
            self.import_error = str(exc)
        else:
            self.compose_post = compose_post
            self.import_error = ""

    def __call__(self, theme: str, brief: str, channel: str) -> dict[str, Any]:
        # compose_post checks copy for a mass send ("group") or moments; a one-to-one mass send
        # (add_msg_template, chat_type single) is checked as a mass send.
        post_channel = "moments" if channel == "moments" else "group"
        key = (theme, brief, post_channel)
        if key not in self.cache:
            self.cache[key] = self._compose(theme, brief, post_channel)
        return self.cache[key]

    def _compose(self, theme: str, brief: str, channel: str) -> dict[str, Any]:
        if self.compose_post is None:
            return {
                "copy": "",
                "citations": [],
                "verdict": "block",
                "findings": [_internal_block(f"起草模块不可用，无法生成文案: {self.import_error}")],
                "writer": "",
            }
        try:
            d = self.compose_post(
                self.segment.value,
                theme,
                brief=brief,
                writer=self.writer,
                settings=self.settings,
                channel=channel,
            )
        except Exception as exc:
            log.exception("compose_post failed for theme %r", theme)
            return {
                "copy": "",
                "citations": [],
                "verdict": "block",
                "findings": [_internal_block(f"生成文案失败: {type(exc).__name__}: {exc}")],
                "writer": "",
            }
        return {
            "copy": d.draft,
            "citations": list(d.citations),
            "verdict": d.verdict,
            "findings": list(d.findings),
            "writer": d.writer,
        }


def _brief(c: _Candidate) -> str:
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

    candidates = _weekly(cal, days, targets) + _paydays(cal, days, targets) + _events(cal, days, targets)
    candidates += _greetings(cal, policy, days, infos, targets, candidates)
    candidates.sort(key=lambda c: (c.day, c.time, -c.priority))
    kept, left = _apply_holidays(candidates, cal, policy, tz)
    kept, cap_left = _apply_cap(kept, CapLedger(cap, targets), tz)
    _separate(kept, cal)
    left += cap_left
    if cap_left:
        notes.append(f"按企业微信群发上限（{cap.describe()}）有 {len(cap_left)} 条未排入，见“未排入”")

    composer = _Composer(seg, writer, settings)
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
