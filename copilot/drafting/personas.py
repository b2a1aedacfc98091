"""Segment personas and the RM profile, read from ``prompts/`` (content, not code)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.config import Settings
from copilot.domain import RMProfile


class PromptContentError(ValueError):
    """A file under prompts/ is missing or malformed; the message names the file."""


class Persona(BaseModel):
    segment: str
    label: str
    tone: str
    salutation: str = "您好"
    address_by_age: dict[str, str] = Field(default_factory=dict)
    reading_level: str = ""
    max_chars: int = Field(200, ge=40, le=2000)
    emoji: Literal["none", "sparing", "allowed"] = "none"
    lead_with: list[str] = Field(default_factory=list)
    avoid: list[str] = Field(default_factory=list)
    risk_ceiling: str = Field("R2", pattern=r"^R[1-5]$")
    preferred_formats: list[str] = Field(default_factory=list)
    sign_off: str = ""
    suitable_products: list[str] = Field(default_factory=list)

    def greeting(self, age_band: str | None) -> str:
        return self.address_by_age.get(age_band or "", "") or self.salutation


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptContentError(f"{path}: 无法读取（{exc.strerror}）") from exc
    except yaml.YAMLError as exc:
        raise PromptContentError(f"{path}: 不是有效的 YAML（{exc}）") from exc
    if not isinstance(data, dict):
        raise PromptContentError(f"{path}: 内容应为键值映射")
    return data


@lru_cache(maxsize=32)
def _load_persona(path: Path, mtime_ns: int) -> Persona:
    try:
        return Persona.model_validate(_read_yaml(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise PromptContentError(f"{path} [{field}]: {err['msg']}") from exc


def load_persona(segment: str | None, settings: Settings) -> Persona:
    """The persona for a segment (the file ``prompts/segments.yaml`` names, ``<segment>.yaml`` by
    default), or ``default.yaml`` when the segment has none."""
    from copilot.segments import load_segments

    folder = settings.prompts_dir / "personas"
    spec = load_segments(settings).get(segment) if segment else None
    path = folder / (spec.persona_file if spec else f"{segment}.yaml")
    if not segment or not path.is_file():
        path = folder / "default.yaml"
    if not path.is_file():
        raise PromptContentError(f"{path}: 缺少客群人设文件")
    return _load_persona(path, path.stat().st_mtime_ns)


def load_rm_profile(settings: Settings) -> RMProfile:
    """The deployment's RM profile (prompts/rm_profile.yaml); built-in defaults if absent."""
    path = settings.prompts_dir / "rm_profile.yaml"
    if not path.is_file():
        return RMProfile()
    try:
        return RMProfile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise PromptContentError(f"{path}: {exc.errors()[0]['msg']}") from exc
