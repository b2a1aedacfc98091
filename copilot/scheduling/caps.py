"""WeCom's cap on company mass messages, per customer or customer group.

By default each customer/group receives at most as many company mass messages (``add_msg_template``)
a month as the month has days; admins can tighten it (e.g. 4 a month, one a day, seven a week).
Group sends (chat_type group) and one-to-one sends (chat_type single) to a group's members are both
counted on the group: a customer then never receives more than the group's count, so the cap holds
per customer too. Moments (``add_moment_task``) are not mass messages and are not counted.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from copilot.scheduling.groups import Group

COUNTED_CHANNELS = frozenset({"group", "one_to_one"})


class CapPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_month: int | None = Field(None, ge=1, le=31)  # None: as many as the month has days
    per_week: int | None = Field(None, ge=1, le=7 * 31)
    per_day: int | None = Field(None, ge=1, le=31)

    def month_limit(self, year: int, month: int) -> int:
        days = calendar.monthrange(year, month)[1]
        # WeCom never allows more than the month's days, whatever an admin sets.
        return days if self.per_month is None else min(self.per_month, days)

    def describe(self) -> str:
        parts = [f"每月 {self.per_month} 条" if self.per_month else "每月不超过当月天数"]
        if self.per_week:
            parts.append(f"每周 {self.per_week} 条")
        if self.per_day:
            parts.append(f"每天 {self.per_day} 条")
        return "每个客户/客户群企业群发上限：" + "，".join(parts)


def _month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class CapLedger:
    """Counts planned mass messages per group and period, and refuses what would pass the cap."""

    def __init__(self, policy: CapPolicy, groups: Iterable[Group]):
        self.policy = policy
        self._month: Counter[tuple[str, str]] = Counter()
        self._week: Counter[tuple[str, tuple[int, int]]] = Counter()
        self._day: Counter[tuple[str, dt.date]] = Counter()
        for g in groups:
            for month, n in g.sent.items():
                self._month[(g.id, month)] += n  # sent outside this plan, still counts this month

    def refusal(self, group_id: str, day: dt.date) -> str | None:
        """Why one more message to ``group_id`` on ``day`` would pass the cap, or None if it fits."""
        p = self.policy
        month = _month_key(day)
        limit = p.month_limit(day.year, day.month)
        if self._month[(group_id, month)] >= limit:
            return f"{month} 的每月上限 {limit} 条已排满"
        week = tuple(day.isocalendar())[:2]
        if p.per_week is not None and self._week[(group_id, week)] >= p.per_week:
            return f"{week[0]} 年第 {week[1]} 周的每周上限 {p.per_week} 条已排满"
        if p.per_day is not None and self._day[(group_id, day)] >= p.per_day:
            return f"{day:%m-%d} 的每天上限 {p.per_day} 条已排满"
        return None

    def take(self, group_id: str, day: dt.date) -> None:
        self._month[(group_id, _month_key(day))] += 1
        self._week[(group_id, tuple(day.isocalendar())[:2])] += 1
        self._day[(group_id, day)] += 1

    def month_count(self, group_id: str, month: str) -> int:
        return self._month[(group_id, month)]
