"""Thresholds: the floor (or ceiling) each metric must stay on, read from ``eval/thresholds.yaml``.

Layout::

    retrieval:                      # suite
      clauses.r@5: {min: 0.95}      # metric name -> bounds
      "category.*.recall": {min: 0.9}   # fnmatch patterns apply to every matching metric
    drafting@local:                 # overrides for one writer (merged over ``drafting``)
      grounded_rate: {min: 0.5}

A bound whose metric is missing from the results fails too: a renamed metric must not pass silently.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.report import Check


class Bound(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("至少需要 min 或 max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} 大于 max {self.max}")
        return self


Thresholds = dict[str, dict[str, Bound]]


def load_thresholds(path: Path) -> Thresholds:
    """Parse and validate the thresholds file; every problem names the file, suite and metric."""
    if not path.is_file():
        raise EvalInputError(f"阈值文件不存在: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: 不是有效的 YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise EvalInputError(f"{path}: 顶层应为 套件 -> 指标 -> {{min, max}} 的映射")
    out: Thresholds = {}
    for suite, metrics in raw.items():
        if not isinstance(metrics, dict):
            raise EvalInputError(f"{path} [{suite}]: 应为 指标 -> {{min, max}} 的映射")
        out[str(suite)] = {}
        for metric, bound in metrics.items():
            try:
                out[str(suite)][str(metric)] = Bound.model_validate(bound)
            except ValidationError as exc:
                msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise EvalInputError(f"{path} [{suite}.{metric}]: {msg}") from exc
    return out


def bounds_for(thresholds: Thresholds, suite: str, writer: str | None = None) -> dict[str, Bound]:
    """The suite's bounds, with ``suite@writer`` entries overriding the shared ones."""
    merged = dict(thresholds.get(suite, {}))
    if writer:
        merged.update(thresholds.get(f"{suite}@{writer}", {}))
    return merged


def compare(metrics: dict[str, float], bounds: dict[str, Bound]) -> list[Check]:
    """One Check per (bound, matching metric); a pattern or name that matches nothing is a failed Check."""
    checks: list[Check] = []
    for pattern, bound in bounds.items():
        names = sorted(m for m in metrics if fnmatchcase(m, pattern))
        if not names:
            checks.append(
                Check(metric=pattern, value=None, min=bound.min, max=bound.max, ok=False, note="指标缺失")
            )
            continue
        for name in names:
            value = metrics[name]
            low = bound.min is not None and value < bound.min
            high = bound.max is not None and value > bound.max
            note = f"低于下限 {bound.min}" if low else f"高于上限 {bound.max}" if high else ""
            checks.append(
                Check(metric=name, value=value, min=bound.min, max=bound.max, ok=not (low or high), note=note)
            )
    return checks
