"""The one error type of the scheduling content files (calendars, holiday rules, groups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class CalendarError(ValueError):
    """A calendar or groups file that cannot be used; the message names the file and the field."""

    def __init__(self, path: Path | str, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        where = self.path + (f" [{field}]" if field else "")
        super().__init__(f"{where}: {message}")


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as people write it: ``weekly.tue[0].time``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def chinese_message(err: dict[str, Any]) -> str:
    """A pydantic error (one item of ``ValidationError.errors()``) in Chinese, for operations staff."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = repr(value) if isinstance(value, str | int | float | bool) else ""
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing":
        return "缺少必填字段"
    if kind == "extra_forbidden":
        return f"未知字段（可能拼写有误）{shown}".rstrip()
    if kind in ("enum", "literal_error"):
        return f"取值 {shown} 无效，可选：{ctx.get('expected', '')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"应为整数，收到 {shown}".rstrip()
    if kind in ("greater_than_equal", "greater_than"):
        return f"应不小于 {ctx.get('ge', ctx.get('gt'))}，收到 {shown}"
    if kind in ("less_than_equal", "less_than"):
        return f"应不大于 {ctx.get('le', ctx.get('lt'))}，收到 {shown}"
    if kind.startswith("time_"):
        return f'时间应写作 "HH:MM"（加引号），收到 {shown}'.rstrip()
    if kind.startswith("date_"):
        return f"日期应写作 YYYY-MM-DD，收到 {shown}".rstrip()
    if kind == "string_too_short":
        return "不能为空"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length', 1)} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("string_type", "string_parsing"):
        return f"应为文本，收到 {shown or type(value).__name__}"
    if kind in ("bool_parsing", "bool_type"):
        return f"应为 true 或 false，收到 {shown}".rstrip()
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "应为键值映射（mapping）"
    if kind == "list_type":
        return "应为列表"
    return str(err.get("msg", "格式有误"))
