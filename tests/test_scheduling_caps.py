"""The WeCom mass-message cap ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from copilot.scheduling.caps import CapLedger, CapPolicy
from copilot.scheduling.groups import Group


def _group(gid: str = "g1", **kw) -> Group:
    return Group(id=gid, segment="pension", **kw)


def test_default_is_days_of_the_month() -> None:
    p = CapPolicy()
    assert p.month_limit(2026, 2) == 28
    assert p.month_limit(2028, 2) == 29
    assert p.month_limit(2026, 12) == 31
    assert CapPolicy(per_month=4).month_limit(2026, 2) == 4
    assert CapPolicy(per_month=31).month_limit(2026, 2) == 28  # WeCom never allows more than the days


def test_month_cap_counts_per_group_and_resets_next_month() -> None:
    ledger = CapLedger(CapPolicy(per_month=2), [_group("a"), _group("b")])
    day = dt.date(2026, 12, 30)
    for _ in range(2):
        assert ledger.refusal("a", day) is None
        ledger.take("a", day)
    assert "上限 2" in (ledger.refusal("a", day) or "")
    assert ledger.refusal("b", day) is None  # other groups keep their own count
    assert ledger.refusal("a", dt.date(2027, 1, 1)) is None


def test_sent_outside_the_plan_counts() -> None:
    ledger = CapLedger(CapPolicy(per_month=4), [_group("a", sent={"2026-12": 4})])
    assert ledger.refusal("a", dt.date(2026, 12, 2)) is not None
    assert ledger.refusal("a", dt.date(2026, 11, 30)) is None


def test_week_and_day_caps() -> None:
    ledger = CapLedger(CapPolicy(per_week=2, per_day=1), [_group()])
    monday = dt.date(2026, 11, 30)
    ledger.take("g1", monday)
    assert "每天" in (ledger.refusal("g1", monday) or "")
    ledger.take("g1", monday + dt.timedelta(days=1))
    assert "每周" in (ledger.refusal("g1", monday + dt.timedelta(days=2)) or "")
    assert ledger.refusal("g1", monday + dt.timedelta(days=7)) is None


@pytest.mark.parametrize("kw", [{"per_month": 0}, {"per_month": 32}, {"per_day": -1}])
def test_nonsense_caps_are_refused(kw: dict) -> None:
    with pytest.raises(ValidationError):
        CapPolicy(**kw)
