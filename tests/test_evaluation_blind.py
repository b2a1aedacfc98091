"""Blind batches: the figures, and a first-seen record that can be written once and never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot.evaluation.blind import (
    AlreadyRecorded,
    Outcome,
    read_first_seen,
    record_first_seen,
    score_outcomes,
)


def outcomes() -> list[Outcome]:
    return [
        Outcome("v1", "block", "block", {"guarantee"}, {"guarantee"}),
        Outcome("v2", "block", "revise", {"guarantee"}, {"guarantee"}),
        Outcome("v3", "revise", "pass", {"disclosure"}, set()),
        Outcome("c1", "pass", "pass", set(), set()),
        Outcome("c2", "pass", "block", set(), {"deposit_confusion"}),
    ]


def test_batch_figures_are_worked_out_by_hand() -> None:
    s = score_outcomes(outcomes())
    assert (s.messages, s.violating, s.compliant) == (5, 3, 2)
    assert s.violation_recall == round(2 / 3, 4)
    assert s.fpr_compliant == 0.5
    assert s.exact_verdict == 0.4  # v1, c1
    assert s.category_recall == {"disclosure": 0.0, "guarantee": 1.0}
    assert s.category_false_alarms == {"deposit_confusion": 1}


def test_a_first_seen_record_is_written_once(tmp_path: Path) -> None:
    scores = score_outcomes(outcomes())
    record = record_first_seen(tmp_path, "batch-01", scores, "rules", tmp_path)
    assert record["batch"] == "batch-01" and record["violation_recall"] == scores.violation_recall
    with pytest.raises(AlreadyRecorded):
        record_first_seen(tmp_path, "batch-01", score_outcomes(outcomes()[:2]), "rules+model", tmp_path)
    record_first_seen(tmp_path, "batch-02", scores, "rules+model", tmp_path, {"model_sha256": "abc"})
    stored = read_first_seen(tmp_path)
    assert list(stored) == ["batch-01", "batch-02"]
    assert stored["batch-01"]["product"] == "rules" and stored["batch-02"]["model_sha256"] == "abc"
    assert yaml.safe_load((tmp_path / "first_seen.yaml").read_text("utf-8"))["note"]
