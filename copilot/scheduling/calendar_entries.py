"""The entries a calendar file is made of: send windows, weekly slots, pay-day follow-ups, offline
events, theme pools, attachments and per-segment holiday overrides (``prompts/calendars/*.yaml``)."""

from __future__ import annotations

import datetime as dt
import string
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from copilot.domain import Channel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

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
