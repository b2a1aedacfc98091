"""Segment calendars: the repo's files load, and broken ones fail naming the file and the field."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from copilot.config import CHECKOUT, Settings
from copilot.scheduling.calendars import (
    Category,
    load_calendar,
    load_calendar_file,
    load_holiday_policy,
)
from copilot.scheduling.errors import CalendarError
from copilot.segments import segment_ids

REPO_CALENDARS = CHECKOUT / "prompts" / "calendars"


@pytest.fixture
def content(tmp_path: Path) -> Settings:
    """A content root holding a copy of the repo's calendars, free to break."""
    shutil.copytree(REPO_CALENDARS, tmp_path / "prompts" / "calendars")
    return Settings(content_root=tmp_path, data_dir=tmp_path / "data")


def _edit(settings: Settings, name: str, change) -> Path:
    path = settings.prompts_dir / "calendars" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("segment", list(segment_ids()))
def test_every_segment_has_a_valid_calendar(segment: str) -> None:
    cal = load_calendar(segment)
    assert cal.segment == segment
    assert cal.weekly, "a calendar without weekly slots plans nothing"
    assert cal.sample_groups, "the CLI needs sample groups when no --groups file is given"
    for day, specs in cal.weekly.items():
        for spec in specs:
            assert cal.allows(spec.time, ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(day))


def test_pension_windows_are_the_three_quiet_hour_gaps() -> None:
    cal = load_calendar("pension")
    assert [(str(w.start)[:5], str(w.end)[:5]) for w in cal.windows] == [
        ("09:00", "11:00"),
        ("14:00", "17:00"),
        ("20:00", "22:00"),
    ]
    assert cal.default_format == "video"
    for weekday in range(7):
        assert cal.allows(dt.time(9, 0), weekday)
        assert not cal.allows(dt.time(11, 0), weekday)  # end is exclusive
        assert not cal.allows(dt.time(18, 30), weekday)  # grandchildren pick-up and dinner
        assert not cal.allows(dt.time(7, 30), weekday)


def test_credit_card_weekly_columns_on_their_weekdays() -> None:
    cal = load_calendar("credit_card")
    columns = {day: [s.column for s in specs if s.column] for day, specs in cal.weekly.items()}
    assert columns["tue"] == ["周二早鸟五折"]
    assert columns["wed"] == ["周三半价日"]
    assert columns["thu"] == ["周四合作商户权益日"]
    assert columns["fri"] == ["周五影票日"]


def test_holiday_policy_covers_every_holiday_the_package_knows() -> None:
    import chinese_calendar

    policy = load_holiday_policy()
    assert {h.value for h in chinese_calendar.Holiday} <= set(policy.names)
    spring = policy.resolve("Spring Festival", load_calendar("pension").holidays)
    assert Category.product in spring.drop_categories
    assert spring.keep_events is False


def test_segment_override_beats_shared_rule(content: Settings) -> None:
    _edit(
        content,
        "pension.yaml",
        lambda d: (
            d.setdefault("holidays", {})
            .setdefault("by_holiday", {})
            .update({"National Day": {"max_posts_per_day": 2}})
        ),
    )
    cal = load_calendar("pension", content)
    rule = load_holiday_policy(content).resolve("National Day", cal.holidays)
    assert rule.max_posts_per_day == 2
    assert rule.drop_categories == [Category.product]  # unset fields still come from the shared default


def test_slot_outside_the_windows_names_file_and_field(content: Settings) -> None:
    path = _edit(content, "pension.yaml", lambda d: d["weekly"]["tue"][0].update(time="18:30"))
    with pytest.raises(CalendarError) as err:
        load_calendar("pension", content)
    assert err.value.path == str(path)
    assert err.value.field == "weekly.tue[0].time"
    assert "18:30" in str(err.value) and "不在" in str(err.value)
    assert "接孙辈" in str(err.value)  # the forbidden window's reason is shown


def test_unknown_category_names_the_field(content: Settings) -> None:
    _edit(content, "credit_card.yaml", lambda d: d["weekly"]["mon"][0].update(category="闲聊"))
    with pytest.raises(CalendarError) as err:
        load_calendar("credit_card", content)
    assert err.value.field is not None and err.value.field.startswith("weekly.mon[0].category")


def test_unquoted_yaml_times_are_read_as_clock_times(tmp_path: Path) -> None:
    # YAML 1.1 turns an unquoted 20:30 into the integer 1230; the loader reads it back as 20:30.
    text = (REPO_CALENDARS / "pension.yaml").read_text(encoding="utf-8").replace('"20:30"', "20:30")
    assert "time: 20:30" in text
    path = tmp_path / "pension.yaml"
    path.write_text(text, encoding="utf-8")
    cal = load_calendar_file(path)
    assert dt.time(20, 30) in [s.time for s in cal.weekly["sun"]]


def test_event_placeholder_typo_is_reported(content: Settings) -> None:
    def typo(d: dict) -> None:
        d["events"][0]["posts"][0]["theme"] = "{titel}报名开始"

    _edit(content, "branch_nearby.yaml", typo)
    with pytest.raises(CalendarError) as err:
        load_calendar("branch_nearby", content)
    assert err.value.field == "events[0].posts[0].theme"
    assert "titel" in str(err.value)


def test_file_name_must_match_segment(tmp_path: Path) -> None:
    path = tmp_path / "payroll.yaml"
    shutil.copy(REPO_CALENDARS / "pension.yaml", path)
    with pytest.raises(CalendarError) as err:
        load_calendar_file(path)
    assert err.value.field == "segment"


def test_broken_yaml_and_missing_file(content: Settings) -> None:
    path = content.prompts_dir / "calendars" / "payroll.yaml"
    path.write_text("segment: payroll\nweekly: {wed: [ {time: \n", encoding="utf-8")
    with pytest.raises(CalendarError, match="YAML") as err:
        load_calendar("payroll", content)
    assert err.value.path == str(path)
    (content.prompts_dir / "calendars" / "credit_card.yaml").unlink()
    with pytest.raises(CalendarError, match="不存在"):
        load_calendar("credit_card", content)


def test_unknown_segment_is_refused() -> None:
    with pytest.raises(CalendarError, match="未知客群"):
        load_calendar("vip")


def test_holiday_policy_must_name_every_holiday(content: Settings) -> None:
    path = _edit(content, "holidays.yaml", lambda d: d["names"].pop("Mid-autumn Festival"))
    with pytest.raises(CalendarError) as err:
        load_holiday_policy(content)
    assert err.value.path == str(path)
    assert err.value.field == "names"
    assert "Mid-autumn Festival" in str(err.value)


def test_festival_category_is_not_part_of_the_mix(content: Settings) -> None:
    _edit(content, "pension.yaml", lambda d: d["mix"].update({"节日": 1}))
    with pytest.raises(CalendarError) as err:
        load_calendar("pension", content)
    assert err.value.field == "mix"


def test_edited_calendar_is_reloaded(content: Settings) -> None:
    first = load_calendar("pension", content)
    _edit(content, "pension.yaml", lambda d: d.update(title="改过的标题"))
    second = load_calendar("pension", content)
    assert first.title != second.title == "改过的标题"
