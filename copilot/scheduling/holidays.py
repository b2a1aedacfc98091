"""Chinese public holidays and solar terms for the planner, from the ``chinese-calendar`` package.

The package carries the State Council's yearly holiday arrangement, so it knows only the years
published when it was released; for a later year it raises ``NotImplementedError``. Such days are
reported as ``known=False`` and the plan says so in its notes instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    known: bool  # False: the package has no holiday data for this year
    holiday: str | None = None  # the package's holiday name on a statutory day off ("Spring Festival")
    first_day: bool = False  # first day of that holiday period
    workday: bool = True  # statutory working day (make-up weekend workdays count as workdays)
    solar_term: str | None = None  # 节气 falling on this day (any year)


@lru_cache(maxsize=4096)
def _detail(day: dt.date) -> tuple[bool, bool, str | None]:
    """(known, is_day_off, holiday name or None)."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False, day.weekday() >= 5, None
    # On make-up workdays the package returns the holiday's name with off=False: not a holiday.
    return True, bool(off), (str(name) if off and name else None)


@lru_cache(maxsize=64)
def _solar_terms(year: int) -> dict[dt.date, str]:
    return dict(chinese_calendar.get_solar_terms(dt.date(year, 1, 1), dt.date(year, 12, 31)))


def day_info(day: dt.date) -> DayInfo:
    known, off, name = _detail(day)
    first = False
    if name:
        _, _, before = _detail(day - dt.timedelta(days=1))
        first = before != name
    return DayInfo(
        date=day,
        known=known,
        holiday=name,
        first_day=first,
        workday=not off,
        solar_term=_solar_terms(day.year).get(day),
    )


def data_years() -> tuple[int, int]:
    """First and last year the installed package has holiday data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def shift_to_workday(day: dt.date, direction: str) -> dt.date:
    """Move a pay day off a weekend or public holiday: to the workday before or after it."""
    if direction == "none":
        return day
    step = dt.timedelta(days=-1 if direction == "before" else 1)
    for _ in range(15):  # the longest holiday block (Spring Festival + weekends) is under 15 days
        if day_info(day).workday:
            return day
        day += step
    return day
