"""Exports: the ICS reads back to the same slots; CSV, JSON and Markdown carry every slot."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.config import Settings
from copilot.scheduling.caps import CapPolicy
from copilot.scheduling.exports import (
    CSV_COLUMNS,
    VERDICT_NAMES,
    render,
    slot_uid,
    to_csv,
    to_ics,
    to_markdown,
)
from copilot.scheduling.planner import Plan, plan
from copilot.segments import segment_ids


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Real drafting and compliance on an empty data directory: fast, and enough for exports."""
    return Settings(data_dir=tmp_path_factory.mktemp("no-index"))


def _events(text: str) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["version"]) == "2.0" and cal["prodid"]
    tz_ids = [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")]
    assert tz_ids == ["Asia/Shanghai"]
    return list(cal.walk("VEVENT"))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segment=st.sampled_from(list(segment_ids())),
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 12, 31)),
    weeks=st.integers(1, 4),
    per_month=st.one_of(st.none(), st.integers(1, 10)),
)
def test_ics_parses_back_to_the_same_slots(
    plain: Settings, segment: str, start: dt.date, weeks: int, per_month: int | None
) -> None:
    p = plan(segment, start, weeks, cap_policy=CapPolicy(per_month=per_month), settings=plain)
    events = _events(to_ics(p))
    assert len(events) == len(p.slots)
    assert len({str(e["uid"]) for e in events}) == len(events)
    by_uid = {str(e["uid"]): e for e in events}
    for s in p.slots:
        e = by_uid[slot_uid(s)]
        start_at = e.decoded("dtstart")
        assert start_at == s.at and str(start_at.tzinfo) == "Asia/Shanghai"
        assert e["dtstart"].params["TZID"] == "Asia/Shanghai"
        assert str(e["summary"]) == s.theme
        description = str(e["description"])
        assert description.startswith(s.copy_text.strip() or "（无文案）")
        assert f"合规结论：{VERDICT_NAMES[s.verdict]}" in description
        assert str(e["x-copilot-verdict"]) == s.verdict
        assert str(e["x-copilot-channel"]) == s.channel
        assert str(e["x-copilot-format"]) == s.format
        assert str(e["x-copilot-groups"]).split(",") == s.groups
        assert [str(c) for c in e["categories"].cats] == [s.category.value]


def test_uids_are_stable_across_runs(plain: Settings) -> None:
    a = plan("credit_card", dt.date(2026, 12, 1), 1, settings=plain)
    b = plan("credit_card", dt.date(2026, 12, 1), 1, settings=plain)
    assert [slot_uid(s) for s in a.slots] == [slot_uid(s) for s in b.slots]


@pytest.fixture(scope="module")
def capped(plain: Settings) -> Plan:
    return plan("credit_card", dt.date(2026, 12, 1), 2, cap_policy=CapPolicy(per_month=3), settings=plain)


def test_csv_lists_slots_and_left_out_posts(capped: Plan) -> None:
    p = capped
    rows = list(csv.DictReader(io.StringIO(to_csv(p))))
    assert list(rows[0].keys()) == CSV_COLUMNS
    planned = [r for r in rows if r["状态"] == "已排期"]
    left = [r for r in rows if r["状态"] == "未排入"]
    assert len(planned) == len(p.slots) and len(left) == len(p.left_out) > 0
    for r, s in zip(planned, p.slots, strict=True):
        assert (r["日期"], r["时间"], r["主题"]) == (
            s.at.strftime("%Y-%m-%d"),
            s.at.strftime("%H:%M"),
            s.theme,
        )
        assert r["合规结论"] == VERDICT_NAMES[s.verdict]
        assert r["文案"] == s.copy_text
    assert all("上限" in r["说明"] for r in left)


def test_json_round_trips_into_a_plan(capped: Plan) -> None:
    p = capped
    data = json.loads(render(p, "json"))
    assert "copy" in data["slots"][0]  # the contract's field name, not the Python attribute
    again = Plan.model_validate(data)
    assert again.slots == p.slots and again.left_out == p.left_out


def test_markdown_table_has_a_row_per_slot_and_the_left_out_section(capped: Plan) -> None:
    p = capped
    md = to_markdown(p)
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2:4].isdigit()]
    assert len(rows) == len(p.slots) + len(p.left_out)
    assert "## 未排入" in md and p.cap_text in md
    for s in p.slots:
        assert s.theme in md
    for line in rows:  # copy with newlines or pipes must not break the table
        assert line.count(" | ") - line.count("\\|") >= 5
