"""Segment calendars: the YAML files operations staff edit under ``prompts/calendars/``.

One file per segment (named in ``prompts/segments.yaml``, ``<segment>.yaml`` by default) says when
posts may go out, which fixed weekly columns run on which weekday, the content mix, format and
channel per slot, payroll pay-day follow-ups and branch-neighbourhood offline events (the entries
are in ``calendar_entries``). ``holidays.yaml`` says how Chinese public holidays (read from the
``chinese-calendar`` package, never typed in by hand) change every segment's plan.

Files are validated at load; errors name the file and the field (``weekly.tue[0].time``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.domain import Channel, Segment
from copilot.scheduling.calendar_entries import WEEKDAY_NAMES as WEEKDAY_NAMES
from copilot.scheduling.calendar_entries import (
    WEEKDAYS,
    Category,
    EventSpec,
    HolidayRule,
    LocalTime,
    PaydayPlan,
    PostFormat,
    SegmentHolidays,
    SlotSpec,
    ThemeSpec,
    TimeWindow,
    Weekday,
)
from copilot.scheduling.calendar_entries import Attachment as Attachment
from copilot.scheduling.errors import CalendarError, chinese_message, field_path
from copilot.scheduling.groups import Group

HOLIDAYS_FILE = "holidays.yaml"


class SegmentCalendar(BaseModel):
    """A segment's calendar file (``prompts/calendars/<segment>.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    segment: Segment
    title: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    windows: list[TimeWindow] = Field(default_factory=list)  # allowed; empty = any time not forbidden
    weekend_windows: list[TimeWindow] | None = None  # Saturdays and Sundays, when they differ
    forbidden: list[TimeWindow] = Field(default_factory=list)
    default_channel: Channel = "group"
    format_preference: list[PostFormat] = Field(default_factory=lambda: ["text"], min_length=1)
    mix: dict[Category, int] = Field(default_factory=dict)
    themes: dict[Category, list[ThemeSpec]] = Field(default_factory=dict)
    weekly: dict[Weekday, list[SlotSpec]] = Field(default_factory=dict)
    greeting_time: LocalTime = dt.time(10, 0)
    weekend_greeting_time: LocalTime | None = None  # when weekend windows differ from weekdays'
    greeting_channel: Channel | None = None
    payday: PaydayPlan | None = None
    rm_persona: str = ""
    events: list[EventSpec] = Field(default_factory=list)
    holidays: SegmentHolidays = Field(default_factory=SegmentHolidays)
    sample_groups: list[Group] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 {v!r}") from exc
        return v

    @field_validator("mix")
    @classmethod
    def _mix(cls, v: dict[Category, int]) -> dict[Category, int]:
        if Category.festival in v:
            raise ValueError("节日内容由节假日规则（holidays.yaml）安排，不放进 mix")
        if any(w < 0 for w in v.values()):
            raise ValueError("mix 的权重不能为负数")
        return {k: w for k, w in v.items() if w > 0}

    @model_validator(mode="after")
    def _consistent(self) -> SegmentCalendar:
        for day, specs in self.weekly.items():
            for i, spec in enumerate(specs):
                where = f"weekly.{day}[{i}]"
                self._check_time(spec.time, f"{where}.time", WEEKDAYS.index(day))
                if spec.category == "auto" and not self.mix:
                    raise _FieldError(f"{where}.category", "category 为 auto 时需要在 mix 中给出内容配比")
                if spec.category != "auto" and not spec.theme and not self.themes.get(spec.category):
                    raise _FieldError(
                        f"{where}.theme", f"未给出主题，且 themes 中没有“{spec.category}”类主题"
                    )
        for cat in self.mix:
            if not self.themes.get(cat):
                raise _FieldError(f"themes.{cat}", f"mix 中有“{cat}”，但 themes 中没有该类主题")
        if self.payday:
            for i, f in enumerate(self.payday.followups):
                self._check_time(f.time, f"payday.followups[{i}].time")
        for i, ev in enumerate(self.events):
            for j, post in enumerate(ev.posts):
                weekday = (WEEKDAYS.index(ev.weekday) + post.offset_days) % 7
                self._check_time(post.time, f"events[{i}].posts[{j}].time", weekday)
        if self.weekend_greeting_time is None:
            self._check_time(self.greeting_time, "greeting_time")
        else:
            for day in range(5):
                self._check_time(self.greeting_time, "greeting_time", day)
            for day in (5, 6):
                self._check_time(self.weekend_greeting_time, "weekend_greeting_time", day)
        seen: set[str] = set()
        for i, g in enumerate(self.sample_groups):
            if g.segment != self.segment:
                raise _FieldError(f"sample_groups[{i}].segment", f"示例群应属于 {self.segment.value}")
            if g.id in seen:
                raise _FieldError(f"sample_groups[{i}].id", f"群 id {g.id!r} 重复")
            seen.add(g.id)
        return self

    def _check_time(self, t: dt.time, where: str, weekday: int | None = None) -> None:
        """Raise unless ``t`` is allowed on ``weekday`` (0 = Monday), or on every day if None."""
        days = range(7) if weekday is None else [weekday]
        for day in days:
            if not self.allows(t, day):
                windows = self.windows_for(day)
                allowed = "、".join(str(w) for w in windows) or "全天"
                when = ("周末" if day >= 5 else "工作日") if self.weekend_windows is not None else ""
                bad = next((w for w in self.forbidden if w.contains(t)), None)
                why = f"，落在禁发时段 {bad}（{bad.reason}）" if bad and bad.reason else ""
                raise _FieldError(where, f"{t:%H:%M} 不在{when}允许的发送时段内（{allowed}）{why}")

    def windows_for(self, weekday: int) -> list[TimeWindow]:
        if weekday >= 5 and self.weekend_windows is not None:
            return self.weekend_windows
        return self.windows

    def allows(self, t: dt.time, weekday: int) -> bool:
        """True when a post at local time ``t`` on ``weekday`` (0 = Monday) is inside an allowed
        window and outside every forbidden one."""
        windows = self.windows_for(weekday)
        if windows and not any(w.contains(t) for w in windows):
            return False
        return not any(w.contains(t) for w in self.forbidden)

    def greeting_time_on(self, day: dt.date) -> dt.time:
        if day.weekday() >= 5 and self.weekend_greeting_time is not None:
            return self.weekend_greeting_time
        return self.greeting_time

    @property
    def default_format(self) -> str:
        return self.format_preference[0]


class _FieldError(ValueError):
    """Raised inside validators to point at a nested field; turned into CalendarError at load."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"[{field}] {message}")


class HolidayName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)  # Chinese display name
    greeting: str = ""  # greeting theme; empty = no greeting post for this holiday
    brief: str = ""  # what the greeting says, written for customers


class HolidayPolicy(BaseModel):
    """``prompts/calendars/holidays.yaml``: the rules for every segment."""

    model_config = ConfigDict(extra="forbid")

    names: dict[str, HolidayName]  # chinese-calendar's holiday name -> Chinese name + greeting theme
    default: HolidayRule
    by_holiday: dict[str, HolidayRule] = Field(default_factory=dict)
    solar_terms: dict[str, str] = Field(default_factory=dict)  # 节气 -> greeting theme

    @model_validator(mode="after")
    def _complete(self) -> HolidayPolicy:
        import chinese_calendar

        known = {h.value for h in chinese_calendar.Holiday}
        missing = sorted(known - set(self.names))
        if missing:
            raise _FieldError("names", f"缺少这些节假日的中文名: {missing}")
        for key in list(self.names) + list(self.by_holiday):
            if key not in known:
                raise _FieldError("names", f"chinese-calendar 中没有节假日 {key!r}，可选: {sorted(known)}")
        d = self.default
        if None in (d.greeting, d.drop_categories, d.max_posts_per_day, d.keep_events):
            raise _FieldError(
                "default", "default 规则需给出 greeting、drop_categories、max_posts_per_day、keep_events"
            )
        from chinese_calendar.solar_terms import SolarTerms

        terms = {t.value[1] for t in SolarTerms}
        for term in self.solar_terms:
            if term not in terms:
                raise _FieldError(f"solar_terms.{term}", f"不是二十四节气之一: {term!r}")
        return self

    def resolve(self, holiday: str, segment: SegmentHolidays) -> HolidayRule:
        """The rule for one holiday: segment's holiday rule, segment default, shared holiday rule,
        shared default, in that order, field by field."""
        chain = [
            segment.by_holiday.get(holiday),
            segment.default,
            self.by_holiday.get(holiday),
            self.default,
        ]
        values: dict[str, Any] = {}
        for name in HolidayRule.model_fields:
            values[name] = next(
                getattr(r, name) for r in chain if r is not None and getattr(r, name) is not None
            )
        return HolidayRule(**values)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CalendarError(path, "文件不存在") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(path, f"无法读取（需要 UTF-8 文本）: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CalendarError(path, f"不是有效的 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarError(path, "顶层应为键值映射（mapping）")
    return data


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, _FieldError):
            raise CalendarError(path, inner.message, inner.field) from exc
        msg = chinese_message(err)
        raise CalendarError(path, msg, field_path(err["loc"]) or None) from exc
    except _FieldError as exc:
        raise CalendarError(path, exc.message, exc.field) from exc


def calendars_dir(settings: Any = None) -> Path:
    from copilot.config import get_settings

    return (settings or get_settings()).prompts_dir / "calendars"


def load_calendar_file(path: Path, segment: str | None = None) -> SegmentCalendar:
    """One calendar file; its ``segment`` must be ``segment`` (by default the file's stem)."""
    path = Path(path)
    data = _read_yaml(path)
    cal = _validate(SegmentCalendar, data, path)
    expected = segment or path.stem
    if cal.segment.value != expected:
        message = (
            f"文件名应为 {cal.segment.value}.yaml（与 segment 一致）"
            if segment is None
            else f"该文件是客群 {expected} 的日历（见 prompts/segments.yaml），segment 应为 {expected}"
        )
        raise CalendarError(path, message, "segment")
    return cal


def load_holiday_policy_file(path: Path) -> HolidayPolicy:
    return _validate(HolidayPolicy, _read_yaml(Path(path)), Path(path))


@lru_cache(maxsize=16)
def _cached_calendar(path: Path, segment: str, stamp: tuple[int, int]) -> SegmentCalendar:
    return load_calendar_file(path, segment)


@lru_cache(maxsize=4)
def _cached_policy(path: Path, stamp: tuple[int, int]) -> HolidayPolicy:
    return load_holiday_policy_file(path)


def _stamp(path: Path) -> tuple[int, int]:
    """Changes whenever the file is edited, so an edited calendar is read again."""
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)  # the loader reports the missing file with its name
    return (st.st_mtime_ns, st.st_size)


def load_calendar(segment: str, settings: Any = None) -> SegmentCalendar:
    """The validated calendar of one segment: the file ``prompts/segments.yaml`` names for it
    (``<segment>.yaml`` by default), cached until the file changes."""
    from copilot.segments import SegmentsFileError, UnknownSegment, load_segments

    try:
        spec = load_segments(settings).require(segment)
    except (UnknownSegment, SegmentsFileError) as exc:
        raise CalendarError(str(segment), str(exc)) from None
    path = calendars_dir(settings) / spec.calendar_file
    return _cached_calendar(path, spec.id, _stamp(path))


def load_holiday_policy(settings: Any = None) -> HolidayPolicy:
    path = calendars_dir(settings) / HOLIDAYS_FILE
    return _cached_policy(path, _stamp(path))
