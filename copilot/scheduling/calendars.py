"""Segment calendars: the YAML files operations staff edit under ``prompts/calendars/``.

One file per segment (``<segment>.yaml``) says when posts may go out, which fixed weekly columns
run on which weekday, the content mix, format and channel per slot, payroll pay-day follow-ups and
branch-neighbourhood offline events. ``holidays.yaml`` says how Chinese public holidays (read from
the ``chinese-calendar`` package, never typed in by hand) change every segment's plan.

Files are validated at load; errors name the file and the field (``weekly.tue[0].time``).
"""

from __future__ import annotations

import datetime as dt
import string
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from copilot.domain import Channel, Segment
from copilot.scheduling.errors import CalendarError, chinese_message, field_path
from copilot.scheduling.groups import Group

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
HOLIDAYS_FILE = "holidays.yaml"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PostFormat = Literal["text", "image", "video", "link", "miniprogram"]


class Category(StrEnum):
    """Content categories of the mix. 节日 posts come from the holiday rules, not from the mix."""

    education = "投教"
    benefit = "权益"
    product = "产品"
    event = "活动"
    festival = "节日"


def _parse_time(v: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:30 as the base-60 integer 630; that is minutes since midnight.
    if isinstance(v, int) and not isinstance(v, bool):
        hours, minutes = divmod(v, 60)
        if 0 <= hours < 24:
            return dt.time(hours, minutes)
    return v


LocalTime = Annotated[dt.time, BeforeValidator(_parse_time)]


class TimeWindow(BaseModel):
    """A window of the day, start inclusive, end exclusive; windows do not cross midnight."""

    model_config = ConfigDict(extra="forbid")

    start: LocalTime
    end: LocalTime
    label: str = ""
    reason: str = ""  # for forbidden windows: why customers must not be disturbed then

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError(f"结束时间 {self.end:%H:%M} 应晚于开始时间 {self.start:%H:%M}（时段不能跨零点）")
        return self

    def contains(self, t: dt.time) -> bool:
        return self.start <= t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class Attachment(BaseModel):
    """A WeCom attachment known when the calendar is written (an H5 link, an uploaded media_id)."""

    model_config = ConfigDict(extra="forbid")

    msgtype: Literal["image", "link", "miniprogram", "video", "file"]
    media_id: str = ""
    pic_url: str = ""
    title: str = ""
    url: str = ""
    desc: str = ""
    picurl: str = ""
    appid: str = ""
    page: str = ""
    pic_media_id: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Attachment:
        need = {
            "image": self.media_id or self.pic_url,
            "link": self.title and self.url,
            "miniprogram": self.title and self.appid and self.page and self.pic_media_id,
            "video": self.media_id,
            "file": self.media_id,
        }[self.msgtype]
        if not need:
            raise ValueError(
                f"{self.msgtype} 附件缺少必填字段（image 需 media_id 或 pic_url；link 需 title 与 url）"
            )
        return self


class ThemeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1)
    brief: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, v: Any) -> Any:
        return {"theme": v} if isinstance(v, str) else v


class SlotSpec(BaseModel):
    """One post a week on a fixed weekday. ``category: auto`` draws the category from the mix."""

    model_config = ConfigDict(extra="forbid")

    time: LocalTime
    category: Category | Literal["auto"] = "auto"
    theme: str = ""  # empty: the next theme of the category's pool
    column: str = ""  # name of a fixed weekly column (固定栏目), e.g. 周三半价日
    channel: Channel | None = None
    format: PostFormat | None = None
    brief: str = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=9)


class FollowUp(BaseModel):
    """A payroll retention post ``offset_days`` after the (shifted) pay day (negative: before)."""

    model_config = ConfigDict(extra="forbid")

    offset_days: int = Field(ge=-5, le=10)  # -1: the day before pay day
    time: LocalTime
    category: Category
    theme: str = Field(min_length=1)
    by_industry: dict[str, str] = Field(default_factory=dict)  # industry -> theme for that industry
    channel: Channel | None = None
    format: PostFormat | None = None
    brief: str = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=9)


class PaydayPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_pay_day: int = Field(ge=1, le=31)
    # A pay day on a weekend or public holiday: employers usually pay on the workday before.
    shift: Literal["before", "after", "none"] = "before"
    followups: list[FollowUp] = Field(min_length=1)


_EVENT_FIELDS = {"title", "hobby", "location", "date", "weekday", "time", "persona"}


class EventPost(BaseModel):
    """A post around an offline event: ``offset_days`` < 0 announces, 0 reminds, > 0 recaps."""

    model_config = ConfigDict(extra="forbid")

    offset_days: int = Field(ge=-14, le=7)
    time: LocalTime
    theme: str = Field(min_length=1)  # may use {title} {hobby} {location} {date} {weekday} {time}
    category: Category = Category.event
    channel: Channel | None = None
    format: PostFormat | None = None
    brief: str = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=9)

    @field_validator("theme", "brief")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(v) if name}
        except ValueError as exc:
            raise ValueError(f"花括号占位符写法有误: {exc}") from exc
        unknown = names - _EVENT_FIELDS
        if unknown:
            raise ValueError(f"未知占位符 {sorted(unknown)}，可用: {sorted(_EVENT_FIELDS)}")
        return v


class EventSpec(BaseModel):
    """A recurring offline event run by the RM (乒乓球友谊赛, 拍花外拍) on weeks where
    ``iso_week % every_weeks == week_offset``, so two plans agree on which weeks have it."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    hobby: str = ""
    location: str = ""
    weekday: Weekday
    time: LocalTime  # when the event itself starts (not a post, so not bound to the send windows)
    every_weeks: int = Field(1, ge=1, le=8)
    week_offset: int = Field(0, ge=0)
    posts: list[EventPost] = Field(min_length=1)

    @model_validator(mode="after")
    def _offset(self) -> EventSpec:
        if self.week_offset >= self.every_weeks:
            raise ValueError(f"week_offset 应小于 every_weeks（{self.every_weeks}）")
        return self


class HolidayRule(BaseModel):
    """How a public holiday changes the plan. Unset fields fall back to the broader rule."""

    model_config = ConfigDict(extra="forbid")

    greeting: bool | None = None  # a festival greeting on the first planned day of the holiday
    drop_categories: list[Category] | None = None  # categories not posted on holiday days
    max_posts_per_day: int | None = Field(None, ge=0, le=10)
    keep_events: bool | None = None  # offline events (and their posts) still run on holiday days


class SegmentHolidays(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: HolidayRule = Field(default_factory=HolidayRule)
    by_holiday: dict[str, HolidayRule] = Field(default_factory=dict)


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
