"""Candidate posts read off a segment's calendar: weekly slots, pay-day follow-ups, event posts, greetings.

Every source builds its candidates with the one ``candidate`` builder, so a post's channel,
format and attachments come from its calendar entry (or the calendar's defaults) the same way
whatever produced it. The filters (``copilot.scheduling.filters``) then decide which are kept.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from copilot.scheduling.calendar_entries import WEEKDAY_NAMES, WEEKDAYS, Attachment, Category, EventSpec
from copilot.scheduling.calendars import HolidayPolicy, SegmentCalendar
from copilot.scheduling.groups import Group
from copilot.scheduling.holidays import DayInfo, shift_to_workday

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


@dataclass
class Candidate:
    """A post the calendar asks for; the filters may drop it, move it or narrow its groups."""

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


class PostSpec(Protocol):
    """What weekly slots, pay-day follow-ups and event posts share in a calendar file."""

    time: dt.time
    channel: str | None
    format: str | None
    attachments: list[Attachment]


def candidate(
    cal: SegmentCalendar,
    day: dt.date,
    spec: PostSpec | None,
    *,
    category: Category,
    theme: str,
    source: Source,
    groups: list[Group],
    brief: Iterable[str] = (),
    time: dt.time | None = None,
    channel: str | None = None,
    column: str = "",
    auto: bool = False,
    event_day: dt.date | None = None,
) -> Candidate:
    """The one way a candidate is built: time, channel, format and attachments from ``spec``
    unless given, falling back to the calendar's defaults; empty brief lines dropped."""
    at = time if time is not None else spec.time if spec is not None else None
    if at is None:
        raise ValueError("a candidate needs a time: from its calendar entry or given")
    return Candidate(
        day=day,
        time=at,
        category=category,
        theme=theme,
        channel=channel or (spec.channel if spec else None) or cal.default_channel,
        format=(spec.format if spec else None) or cal.default_format,
        source=source,
        groups=groups,
        column=column,
        auto=auto,
        brief=[line for line in brief if line],
        attachments=list(spec.attachments) if spec else [],
        event_day=event_day,
    )


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


def weekly_candidates(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[Candidate]:
    """The weekly rhythm: fixed columns and mix-drawn slots, themes taken from the pools in turn."""
    drawer = _MixDrawer(cal.mix) if cal.mix else None
    next_theme: dict[Category, int] = defaultdict(int)
    out: list[Candidate] = []
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
                candidate(
                    cal, day, spec, category=cat, theme=theme, source="weekly", groups=groups,
                    brief=[brief], column=spec.column, auto=auto,
                )
            )
    return out


def _months_around(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """The months whose pay days can have follow-ups inside [first, last]: last month's (its
    follow-ups run into this one) through the month after (announced the day before)."""
    months: list[tuple[int, int]] = []
    cursor = dt.date(first.year, first.month, 1) - dt.timedelta(days=1)
    cursor = dt.date(cursor.year, cursor.month, 1)
    while cursor <= last + dt.timedelta(days=10):
        months.append((cursor.year, cursor.month))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return months


def payday_candidates(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[Candidate]:
    """Follow-ups around each group's (shifted) pay day; groups sharing a post share one candidate."""
    if not cal.payday:
        return []
    plan_days = set(days)
    buckets: dict[tuple[dt.date, int, str], list[Group]] = defaultdict(list)
    pay_dates: dict[tuple[dt.date, int, str], dt.date] = {}
    for g in groups:
        pay_day = g.pay_day or cal.payday.default_pay_day
        for year, month in _months_around(days[0], days[-1]):
            last_day = (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            nominal = dt.date(year, month, min(pay_day, last_day.day))
            paid = shift_to_workday(nominal, cal.payday.shift)
            for i, f in enumerate(cal.payday.followups):
                day = paid + dt.timedelta(days=f.offset_days)
                if day in plan_days:
                    key = (day, i, f.by_industry.get(g.industry, f.theme))
                    buckets[key].append(g)
                    pay_dates[key] = paid
    out: list[Candidate] = []
    for (day, i, theme), members in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        f = cal.payday.followups[i]
        paid = pay_dates[(day, i, theme)]
        paid_line = f"本月工资发放日：{paid.month}月{paid.day}日（{WEEKDAY_NAMES[paid.weekday()]}）。"
        out.append(
            candidate(
                cal, day, f, category=f.category, theme=theme, source="payday", groups=members,
                brief=[paid_line, f.brief],
            )
        )
    return out


def _event_days(ev: EventSpec, days: list[dt.date]) -> list[dt.date]:
    """Days the event takes place whose posts (before and after it) can fall inside the plan."""
    lo = min(p.offset_days for p in ev.posts)
    hi = max(p.offset_days for p in ev.posts)
    out: list[dt.date] = []
    occ = days[0] - dt.timedelta(days=hi)
    while occ <= days[-1] - dt.timedelta(days=lo):
        iso_week = occ.isocalendar()[1]
        if WEEKDAYS[occ.weekday()] == ev.weekday and iso_week % ev.every_weeks == ev.week_offset:
            out.append(occ)
        occ += dt.timedelta(days=1)
    return out


def event_candidates(cal: SegmentCalendar, days: list[dt.date], groups: list[Group]) -> list[Candidate]:
    """Sign-up, reminder and recap posts around each offline event, with the RM persona."""
    plan_days = set(days)
    out: list[Candidate] = []
    for ev in cal.events:
        for occ in _event_days(ev, days):
            fields = {
                "title": ev.title,
                "hobby": ev.hobby,
                "location": ev.location,
                "date": f"{occ.month}月{occ.day}日",
                "weekday": WEEKDAY_NAMES[occ.weekday()],
                "time": f"{ev.time:%H:%M}",
                "persona": cal.rm_persona,
            }
            when = (
                f"{ev.title}：{fields['date']}（{fields['weekday']}）{fields['time']}"
                + (f"，地点：{ev.location}" if ev.location else "")
                + "。"
            )
            for post in ev.posts:
                day = occ + dt.timedelta(days=post.offset_days)
                if day not in plan_days:
                    continue
                out.append(
                    candidate(
                        cal, day, post, category=post.category, theme=post.theme.format_map(fields),
                        source="event", groups=groups, event_day=occ,
                        brief=[cal.rm_persona, when, post.brief.format_map(fields)],
                    )
                )
    return out


def greeting_candidates(
    cal: SegmentCalendar,
    policy: HolidayPolicy,
    days: list[dt.date],
    infos: dict[dt.date, DayInfo],
    groups: list[Group],
    candidates: list[Candidate],
) -> list[Candidate]:
    """Festival greetings on the first planned day of each holiday; solar-term greetings take the
    place of that day's first mix-drawn post in ``candidates`` (so they add no post of their own)."""
    out: list[Candidate] = []
    for day in days:
        info = infos[day]
        if info.holiday:
            rule = policy.resolve(info.holiday, cal.holidays)
            name = policy.names[info.holiday]
            if rule.greeting and name.greeting and (info.first_day or day == days[0]):
                out.append(
                    candidate(
                        cal, day, None, category=Category.festival, theme=name.greeting,
                        source="holiday", groups=groups, brief=[name.brief],
                        time=cal.greeting_time_on(day), channel=cal.greeting_channel,
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


def calendar_candidates(
    cal: SegmentCalendar,
    policy: HolidayPolicy,
    days: list[dt.date],
    infos: dict[dt.date, DayInfo],
    groups: list[Group],
) -> list[Candidate]:
    """Every candidate of the period, in time order (higher priority first at the same minute)."""
    out = weekly_candidates(cal, days, groups) + payday_candidates(cal, days, groups)
    out += event_candidates(cal, days, groups)
    out += greeting_candidates(cal, policy, days, infos, groups, out)
    out.sort(key=lambda c: (c.day, c.time, -c.priority))
    return out
