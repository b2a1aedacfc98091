"""Posting schedules: segment calendars (``prompts/calendars/``) -> dated, checked posts.

    from copilot.scheduling import plan, CapPolicy, load_groups, render
    p = plan("pension", date(2026, 12, 1), weeks=2, cap_policy=CapPolicy(per_month=4))
    print(render(p, "md"))

Names are loaded on first use so ``copilot --help`` does not import the planner.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "plan": "planner",
    "Plan": "planner",
    "PlannedPost": "planner",
    "LeftOut": "planner",
    "PlanError": "planner",
    "CapPolicy": "caps",
    "Group": "groups",
    "load_groups": "groups",
    "CalendarError": "errors",
    "Category": "calendars",
    "SegmentCalendar": "calendars",
    "load_calendar": "calendars",
    "load_holiday_policy": "calendars",
    "render": "exports",
    "to_ics": "exports",
    "to_csv": "exports",
    "to_json": "exports",
    "to_markdown": "exports",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
