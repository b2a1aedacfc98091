"""Blind compliance batches: score a batch, and keep each batch's first-seen figure on record.

A blind batch (``eval/compliance/blind/batch-NN.jsonl``) is written and labelled by someone who
has not read the rules or the code, committed, and then run once. That first run's figures are
written to ``eval/compliance/blind/first_seen.yaml`` and committed before anyone looks at the
messages; later runs report "current" figures beside them. ``record_first_seen`` refuses to
overwrite a batch that is already on record, so the honest figure cannot be replaced by a tuned one.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel

from copilot.domain import Verdict

COUNTED_SEVERITIES = {"block", "revise"}
FIRST_SEEN_FILE = "first_seen.yaml"


class BatchScores(BaseModel):
    """What a batch measures: the three acceptance figures and per-category detail."""

    messages: int
    violating: int
    compliant: int
    violation_recall: float  # violating messages not passed
    fpr_compliant: float  # compliant messages not passed
    exact_verdict: float  # verdict == expected verdict, over all messages
    category_recall: dict[str, float]  # per labelled category: share of its messages where it was found
    category_support: dict[str, int]
    category_false_alarms: dict[str, int]  # compliant messages flagged with this category


@dataclass
class Outcome:
    id: str
    expected_verdict: str
    verdict: str
    want: set[str]
    got: set[str]
    findings: list = field(default_factory=list)


def counted_categories(verdict: Verdict) -> set[str]:
    return {f.category for f in verdict.findings if f.severity in COUNTED_SEVERITIES and f.category != "internal"}


def run_batch(messages: Sequence, check: Callable[[str, object], Verdict]) -> list[Outcome]:
    """``messages`` are LabelledMessage; ``check(text, context)`` is the product under test."""
    out = []
    for m in messages:
        v = check(m.text, m.context())
        out.append(Outcome(m.id, m.expected_verdict, v.verdict, set(m.categories), counted_categories(v), v.findings))
    return out


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 1.0


def score_outcomes(outcomes: list[Outcome]) -> BatchScores:
    violating = [o for o in outcomes if o.expected_verdict != "pass"]
    compliant = [o for o in outcomes if o.expected_verdict == "pass"]
    cats = sorted({c for o in outcomes for c in o.want})
    support = {c: sum(c in o.want for o in outcomes) for c in cats}
    recall = {c: _share([c in o.got for o in outcomes if c in o.want]) for c in cats}
    alarms: dict[str, int] = {}
    for o in compliant:
        for c in o.got:
            alarms[c] = alarms.get(c, 0) + 1
    return BatchScores(
        messages=len(outcomes),
        violating=len(violating),
        compliant=len(compliant),
        violation_recall=_share([o.verdict != "pass" for o in violating]),
        fpr_compliant=round(sum(o.verdict != "pass" for o in compliant) / len(compliant), 4) if compliant else 0.0,
        exact_verdict=_share([o.verdict == o.expected_verdict for o in outcomes]),
        category_recall=recall,
        category_support=support,
        category_false_alarms=dict(sorted(alarms.items())),
    )


def batch_files(blind_dir: Path) -> list[Path]:
    return sorted(blind_dir.glob("batch-*.jsonl")) if blind_dir.is_dir() else []


def read_first_seen(blind_dir: Path) -> dict[str, dict]:
    """The committed first-seen records, keyed by batch name (``batch-01``)."""
    path = blind_dir / FIRST_SEEN_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {r["batch"]: r for r in data.get("batches", [])}


def _code_commit(repo: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "copilot", "guardrails"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class AlreadyRecorded(ValueError):
    """The batch has a first-seen figure; it is never replaced."""


def record_first_seen(
    blind_dir: Path, batch: str, scores: BatchScores, product: str, repo: Path, extra: dict | None = None
) -> dict:
    """Append the batch's first-seen record to first_seen.yaml (refuses a batch already there)."""
    existing = read_first_seen(blind_dir)
    if batch in existing:
        raise AlreadyRecorded(f"{batch} 已有首次结果（{existing[batch]['date']}），不能覆盖")
    record = {
        "batch": batch,
        "date": dt.datetime.now().isoformat(timespec="minutes"),
        "code_commit": _code_commit(repo),
        "product": product,
        **(extra or {}),
        **scores.model_dump(),
    }
    path = blind_dir / FIRST_SEEN_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    data = data or {
        "note": "First-seen figures of each blind batch: one run, recorded before anyone read the batch. "
        "Never edited; later figures are reported as 'current' by copilot eval --suite compliance."
    }
    data.setdefault("batches", []).append(record)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return record
