"""The segment registry: which customer segments exist, read from ``prompts/segments.yaml``.

Segments are content. ``prompts/segments.yaml`` lists them (id, Chinese name, the persona and
calendar files); everything segment-specific lives in those files (voice and risk ceiling in the
persona, send windows, quiet hours and pay-day follow-ups in the calendar, playbooks and scripts in
``knowledge/``), so a fifth segment is a handful of new files and no Python.

``copilot.domain.Segment`` validates against the *active* registry: the one a caller scoped with
``segments_of(settings)`` (the API does so per request for its app's settings; ``plan``,
``compose_post``, ``draft_reply`` and ``ingest`` for the settings they are given), otherwise the
registry of ``get_settings()``. A content root without ``prompts/segments.yaml`` uses the file
shipped with the copilot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, copy_context
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.config import CHECKOUT

SEGMENTS_FILE = "segments.yaml"
BUILTIN_SEGMENTS = CHECKOUT / "prompts" / SEGMENTS_FILE
T = TypeVar("T")


class SegmentsFileError(ValueError):
    """``prompts/segments.yaml`` is missing or malformed; the message names the file and field."""


class UnknownSegment(ValueError):
    """A segment id the registry does not list; the message says which ones it does."""

    def __init__(self, segment: object, registry: SegmentRegistry):
        self.segment = segment
        super().__init__(f"未知客群 {str(segment)!r}，可选：{registry.choices()}")


class SegmentSpec(BaseModel):
    """One entry of ``prompts/segments.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")  # also a file stem and a metadata key
    name: str = Field(min_length=1)  # 中文名, e.g. 社保养老客群
    description: str = ""
    persona: str = ""  # file under prompts/personas/; empty = <id>.yaml
    calendar: str = ""  # file under prompts/calendars/; empty = <id>.yaml

    @property
    def persona_file(self) -> str:
        return self.persona or f"{self.id}.yaml"

    @property
    def calendar_file(self) -> str:
        return self.calendar or f"{self.id}.yaml"


class SegmentRegistry(BaseModel):
    """The segments of one content root, in the order the file lists them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segments: tuple[SegmentSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SegmentRegistry:
        seen: set[str] = set()
        for s in self.segments:
            if s.id in seen or s.id == "default":  # personas/default.yaml is the fallback persona
                raise ValueError(f"客群 id {s.id!r} 重复或为保留字")
            seen.add(s.id)
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.segments)

    def __contains__(self, segment: object) -> bool:
        return str(segment) in self.ids

    def get(self, segment: str) -> SegmentSpec | None:
        return next((s for s in self.segments if s.id == segment), None)

    def require(self, segment: object) -> SegmentSpec:
        """The entry for ``segment``, or UnknownSegment (a ValueError with a Chinese message)."""
        spec = self.get(str(segment))
        if spec is None:
            raise UnknownSegment(segment, self)
        return spec

    def name(self, segment: str) -> str:
        """The Chinese name, or the id itself for a segment the registry does not list."""
        spec = self.get(str(segment))
        return spec.name if spec else str(segment)

    def choices(self) -> str:
        """``credit_card（信用卡客群）、payroll（代发工资客群）…`` for help texts and errors."""
        return "、".join(f"{s.id}（{s.name}）" for s in self.segments)


def segments_path(settings: Any) -> Path:
    """The content root's ``prompts/segments.yaml``, or the shipped one when it has none."""
    path = settings.prompts_dir / SEGMENTS_FILE
    return path if path.is_file() else BUILTIN_SEGMENTS


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> SegmentRegistry:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SegmentsFileError(f"{path}: 无法读取客群目录（{exc.strerror}）") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SegmentsFileError(f"{path}: 不是有效的 YAML（{exc}）") from exc
    try:
        return SegmentRegistry.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "segments"
        message = err.get("ctx", {}).get("error", err["msg"]) if err["type"] == "value_error" else err["msg"]
        raise SegmentsFileError(f"{path} [{where}]: {message}") from exc


def load_segments(settings: Any = None) -> SegmentRegistry:
    """The registry of a content root (cached until the file changes)."""
    if settings is None:
        from copilot.config import get_settings

        settings = get_settings()
    path = segments_path(settings)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise SegmentsFileError(f"{path}: 缺少客群目录文件") from exc
    return _load(path, stamp)


_ACTIVE: ContextVar[SegmentRegistry | None] = ContextVar("copilot_segments", default=None)


def active_segments() -> SegmentRegistry:
    """The registry ``Segment`` validates against (see the module docstring)."""
    return _ACTIVE.get() or load_segments()


@contextlib.contextmanager
def segments_of(settings: Any) -> Iterator[SegmentRegistry]:
    """Validate segments against ``settings``' content root inside the ``with`` block."""
    token = _ACTIVE.set(load_segments(settings))
    try:
        yield _ACTIVE.get()  # type: ignore[misc]
    finally:
        _ACTIVE.reset(token)


def segment_ids(settings: Any = None) -> tuple[str, ...]:
    """The ids of ``settings``' registry, or of the active one."""
    return (load_segments(settings) if settings is not None else active_segments()).ids


def segment_name(segment: str, settings: Any = None) -> str:
    """The Chinese name of a segment (``pension`` → 社保养老客群)."""
    return (load_segments(settings) if settings is not None else active_segments()).name(segment)


def iterate_within(settings: Any, items: Iterator[T]) -> Iterator[T]:
    """Run each step of a generator inside ``segments_of(settings)``.

    A ``with`` block inside a generator would leak the registry to whoever consumes it between
    steps, and cannot be reset when the steps run in different contexts (Starlette pulls a
    streamed body from worker threads); a context of its own per generator avoids both."""
    ctx = copy_context()
    ctx.run(_ACTIVE.set, load_segments(settings))
    while True:
        try:
            item = ctx.run(next, items)
        except StopIteration:
            return
        yield item
