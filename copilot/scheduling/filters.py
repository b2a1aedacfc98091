"""The rules that thin the candidates: holiday rules, the WeCom cap, and spacing posts to one group.

Each filter returns what it keeps and a ``LeftOut`` (with the rule and a Chinese reason) for
everything it drops, so a plan never loses a post silently.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from copilot.scheduling.calendars import Category, HolidayPolicy, SegmentCalendar
from copilot.scheduling.candidates import Candidate
from copilot.scheduling.caps import COUNTED_CHANNELS, CapLedger
from copilot.scheduling.groups import Group
from copilot.scheduling.holidays import day_info


class LeftOut(BaseModel):
    at: dt.datetime
    theme: str
    category: Category
    channel: str
    groups: list[str] = Field(default_factory=list)
    rule: Literal["cap", "holiday"]
    reason: str


def left_out(
    c: Candidate, tz: ZoneInfo, rule: Literal["cap", "holiday"], reason: str, groups: list[Group] | None = None
) -> LeftOut:
    return LeftOut(
        at=dt.datetime.combine(c.day, c.time, tzinfo=tz),
        theme=c.theme,
        category=c.category,
        channel=c.channel,
        groups=[g.id for g in (c.groups if groups is None else groups)],
        rule=rule,
        reason=reason,
    )


def apply_holidays(
    candidates: list[Candidate], cal: SegmentCalendar, policy: HolidayPolicy, tz: ZoneInfo
) -> tuple[list[Candidate], list[LeftOut]]:
    """Holiday rules: events paused, categories not posted, and the daily maximum (highest
    priority first) on holiday days. Sets each kept candidate's ``holiday`` name."""
    kept: list[Candidate] = []
    left: list[LeftOut] = []
    by_day: dict[dt.date, list[Candidate]] = defaultdict(list)
    for c in candidates:
        info = day_info(c.day)
        if c.event_day is not None:
            ev_info = day_info(c.event_day)
            if ev_info.holiday and not policy.resolve(ev_info.holiday, cal.holidays).keep_events:
                cn = policy.names[ev_info.holiday].name
                left.append(left_out(c, tz, "holiday", f"活动日 {c.event_day:%m-%d} 在{cn}假期内，线下活动暂停"))
                continue
        if info.holiday:
            rule = policy.resolve(info.holiday, cal.holidays)
            cn = policy.names[info.holiday].name
            c.holiday = cn
            if c.source != "holiday" and c.category in (rule.drop_categories or []):
                left.append(left_out(c, tz, "holiday", f"{cn}假期不发“{c.category}”类内容"))
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
                    left_out(c, tz, "holiday", f"{cn}假期每天最多 {limit} 条，优先保留节日问候和固定栏目")
                )
    return kept, left


def spread_order(same: list[Candidate]) -> list[Candidate]:
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


def apply_cap(
    candidates: list[Candidate], ledger: CapLedger, tz: ZoneInfo
) -> tuple[list[Candidate], list[LeftOut]]:
    """The WeCom cap per group: highest priority first, spread over the period within a
    priority; a post keeps the groups that still have room. Moments are not counted."""
    counted = [c for c in candidates if c.channel in COUNTED_CHANNELS]
    free = [c for c in candidates if c.channel not in COUNTED_CHANNELS]
    by_priority: dict[int, list[Candidate]] = defaultdict(list)
    for c in sorted(counted, key=lambda c: (c.day, c.time)):
        by_priority[c.priority].append(c)
    order: list[Candidate] = []
    for prio in sorted(by_priority, reverse=True):
        order += spread_order(by_priority[prio])
    kept: list[Candidate] = list(free)
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
            left.append(left_out(c, tz, "cap", f"企业微信群发上限：{why}", groups=gs))
        if ok:
            c.groups = ok
            kept.append(c)
    return kept, left


def separate(candidates: list[Candidate], cal: SegmentCalendar) -> None:
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
