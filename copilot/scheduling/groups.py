"""Customer groups a plan targets: the ``--groups FILE`` (YAML or JSON) operations staff keep.

A file holds groups of any segments; a plan uses those of its own segment. Payroll groups carry
their employer's pay day; any group may say how many company mass messages it already received
in a month outside this plan, so the WeCom monthly cap accounts for them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.domain import Segment
from copilot.scheduling.errors import CalendarError, chinese_message, field_path

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name: str = ""
    segment: Segment
    chat_id: str = ""  # WeCom customer-group chat id (chat_id_list of add_msg_template), when known
    tags: list[str] = Field(default_factory=list)  # WeCom customer tag ids (moments visible range)
    pay_day: int | None = Field(None, ge=1, le=31)  # payroll: the employer's monthly pay day
    employer: str = ""
    industry: str = ""  # payroll: e.g. 互联网 / 地产 / 国企, picks industry-specific follow-up themes
    sent: dict[str, int] = Field(default_factory=dict)  # "YYYY-MM" -> mass messages already sent

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c.isspace() or c in ",;" for c in v):
            raise ValueError("群 id 不能为空，也不能包含空白、逗号或分号")
        return v

    @field_validator("sent")
    @classmethod
    def _sent(cls, v: dict[str, int]) -> dict[str, int]:
        for month, n in v.items():
            if not _MONTH.match(str(month)):
                raise ValueError(f"月份 {month!r} 应写作 YYYY-MM")
            if n < 0:
                raise ValueError(f"{month} 的已发送条数不能为负数")
        return v

    @property
    def label(self) -> str:
        return self.name or self.id


class GroupsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[Group] = Field(min_length=1)


def load_groups(path: Path | str) -> list[Group]:
    """Read a groups file (YAML or JSON: ``{groups: [...]}`` or a bare list); raise CalendarError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CalendarError(path, "分组文件不存在") from exc
    except IsADirectoryError as exc:
        raise CalendarError(path, "这是一个目录，不是分组文件") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(path, f"无法读取分组文件（需要 UTF-8 文本）: {exc}") from exc
    data: Any
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise CalendarError(path, f"不是有效的 {kind}: {exc}") from exc
    if isinstance(data, list):
        data = {"groups": data}
    if not isinstance(data, dict):
        raise CalendarError(path, "应为 {groups: [...]} 或群列表")
    try:
        groups = GroupsFile.model_validate(data).groups
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = chinese_message(err)
        raise CalendarError(path, msg, field_path(err["loc"]) or None) from exc
    seen: set[str] = set()
    for i, g in enumerate(groups):
        if g.id in seen:
            raise CalendarError(path, f"群 id {g.id!r} 重复", f"groups[{i}].id")
        seen.add(g.id)
    return groups
