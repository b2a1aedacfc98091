"""Schedule suite: real plans meet every constraint, and a plan broken in one way is caught."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from copilot.config import Settings
from copilot.evaluation import schedule
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.runner import EvalContext


@pytest.fixture(scope="module")
def golden(kb_settings):
    ctx = EvalContext(settings=kb_settings, kb_data_dir=kb_settings.data_dir)
    return schedule.load_cases(ctx)


def test_generated_plans_meet_every_constraint(kb_settings):
    ctx = EvalContext(settings=kb_settings, kb_data_dir=kb_settings.data_dir, limit=3)
    result = schedule.run(ctx)
    assert result.counts["plans"] == 3 and result.counts["slots"] > 0
    assert result.metrics["constraint_satisfaction"] == 1.0, result.failures[:3]
    assert result.metrics["violations.windows"] == 0.0  # the pension plan was checked against its windows
    assert result.metrics["violations.columns"] == 0.0  # and the credit-card plan against its columns


def _real_plan(kb_settings, case: schedule.PlanCase):
    from copilot.scheduling import CapPolicy, plan

    return plan(
        case.segment.value,
        case.start,
        case.weeks,
        cap_policy=CapPolicy(**case.cap.model_dump()),
        writer="template",
        settings=kb_settings,
    )


def _violations(case, p, constraints) -> dict[str, int]:
    tally = schedule._Tally(case.id, [])
    schedule._check_plan(case, p, constraints, tally)
    return dict(tally.violated)


@pytest.fixture(scope="module")
def pension(kb_settings, golden):
    constraints, cases = golden
    case = next(c for c in cases if c.id == "pension-dec")
    return case, _real_plan(kb_settings, case), constraints


def test_the_real_pension_plan_is_clean(pension):
    case, p, constraints = pension
    assert _violations(case, p, constraints) == {}


def _spoil_slot(p, i: int, **update):
    slots = list(p.slots)
    slots[i] = slots[i].model_copy(update=update)
    return p.model_copy(update={"slots": slots})


@pytest.mark.parametrize(
    ("spoil", "constraint"),
    [
        (lambda p: _spoil_slot(p, 0, at=p.slots[0].at.replace(hour=12, minute=30)), "windows"),
        (lambda p: _spoil_slot(p, 0, at=p.slots[0].at.replace(hour=23, minute=0)), "quiet_hours"),
        (
            lambda p: _spoil_slot(p, 0, copy_text="叔叔阿姨，这款理财保本保息，稳赚不赔！", verdict="pass"),
            "verdict",
        ),
        (lambda p: _spoil_slot(p, 0, verdict="block", findings=[]), "verdict"),
        (lambda p: _spoil_slot(p, 0, copy_text=p.slots[0].copy_text + "每月定投更省心。"), "banned_terms"),
        (
            lambda p: p.model_copy(
                update={"slots": [s.model_copy(update={"channel": "group"}) for s in p.slots] * 4}
            ),
            "cap",
        ),
    ],
)
def test_checker_catches_a_broken_plan(pension, spoil, constraint):
    case, p, constraints = pension
    assert _violations(case, spoil(p), constraints).get(constraint, 0) > 0


def test_cap_case_must_report_what_it_left_out(kb_settings, golden):
    constraints, cases = golden
    case = next(c for c in cases if c.id == "cc-cap4")
    p = _real_plan(kb_settings, case)
    assert _violations(case, p, constraints) == {}
    assert any(x.rule == "cap" for x in p.left_out)
    assert _violations(case, p.model_copy(update={"left_out": []}), constraints) == {"left_out": 1}


def test_column_on_the_wrong_weekday(kb_settings, golden):
    constraints, cases = golden
    case = next(c for c in cases if c.id == "cc-dec")
    p = _real_plan(kb_settings, case)
    tue = next(i for i, s in enumerate(p.slots) if "早鸟" in (s.column or ""))
    moved = _spoil_slot(p, tue, at=p.slots[tue].at + dt.timedelta(days=1))
    assert _violations(case, moved, constraints).get("columns", 0) >= 1


def test_random_plans_are_reproducible(kb_settings):
    a = schedule.load_cases(EvalContext(settings=kb_settings))[1]
    b = schedule.load_cases(EvalContext(settings=kb_settings))[1]
    assert [(c.id, c.segment, c.start, c.weeks, c.cap) for c in a] == [
        (c.id, c.segment, c.start, c.weeks, c.cap) for c in b
    ]
    assert any(c.id.startswith("random-") for c in a)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('pension: ["09:00-11:00"', 'pension: ["9点-11:00"', "HH:MM"),
        ("{tue: 早鸟", "{tuesday: 早鸟", "未知星期"),
        ("segment: pension, start: 2026-12-01", "segment: elderly, start: 2026-12-01", "pension-dec"),
    ],
)
def test_plans_file_validation(tmp_path, kb_settings, old, new, needle):
    root = tmp_path / "content"
    shutil.copytree(kb_settings.content_root / "eval", root / "eval")
    path = root / "eval" / "schedule" / "plans.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(EvalInputError, match=needle):
        schedule.load_cases(EvalContext(settings=Settings(content_root=root, data_dir=tmp_path / "d")))
