"""Reading golden sets (JSONL and YAML under ``eval/``) into validated models.

A malformed file is bad input: the error names the file and the line or entry, in Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from copilot.evaluation.errors import EvalInputError

M = TypeVar("M", bound=BaseModel)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every non-empty line of a JSONL file as a model."""
    if not path.is_file():
        raise EvalInputError(f"评测文件不存在: {path}")
    items: list[M] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}: 不是 UTF-8 文本") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(model.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise EvalInputError(f"{path} 第 {n} 行不是有效的 JSON: {exc.msg}") from exc
        except ValidationError as exc:
            raise EvalInputError(f"{path} 第 {n} 行无效: {_first_error(exc)}") from exc
    if not items:
        raise EvalInputError(f"评测文件为空: {path}")
    return items


def read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise EvalInputError(f"评测文件不存在: {path}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: 不是有效的 YAML: {exc}") from exc


def validate_list(path: Path, items: Any, model: type[M], key: str = "id") -> list[M]:
    """A YAML list of cases as models; an invalid entry is named by its ``key`` (or position)."""
    if not isinstance(items, list) or not items:
        raise EvalInputError(f"{path}: 应为非空的用例列表")
    out: list[M] = []
    seen: set[str] = set()
    for n, raw in enumerate(items, start=1):
        name = raw.get(key) if isinstance(raw, dict) else None
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            raise EvalInputError(f"{path} 第 {n} 个用例 {name or ''}: {_first_error(exc)}") from exc
        ident = str(getattr(item, key, n))
        if ident in seen:
            raise EvalInputError(f"{path}: 用例 id 重复: {ident}")
        seen.add(ident)
        out.append(item)
    return out
