"""Schedule suite: generate plans with ``copilot.scheduling.plan`` and check every constraint.

The plans and constraints come from ``eval/schedule/plans.yaml`` (fixed plans plus seeded random
ones). Constraints checked on every slot or plan:

- ``quiet_hours`` / ``windows``: send times outside the quiet hours, inside the segment's windows;
- ``cap``: WeCom mass messages (group and one-to-one sends) per group per month, week and day
  never above the plan's cap policy;
- ``left_out``: a plan asked for more than the cap reports what it left out;
- ``verdict``: every slot carries a verdict; a blocked slot has findings and no sendable body;
  a slot marked pass/revise is not blocked when its copy is checked again independently;
- ``banned_terms``, ``columns``, ``holiday_categories``: segment content rules.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.domain import CheckContext, Segment
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.golden import read_yaml, validate_list
from copilot.evaluation.report import CaseFailure, Chart, SuiteResult
from copilot.evaluation.runner import EvalContext
from copilot.segments import load_segments

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MASS_CHANNELS = {"group", "one_to_one"}  # moments are not company mass messages


def _hhmm(v: str) -> dt.time:
    try:
        return dt.time.fromisoformat(v.strip())
    except ValueError as exc:
        raise ValueError(f"时间应写成 HH:MM，收到 {v!r}") from exc


class Window(BaseModel):
    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> Window:
        start, _, end = text.partition("-")
        return cls(start=_hhmm(start), end=_hhmm(end))

    def contains(self, t: dt.time) -> bool:
        return self.start <= t <= self.end


class Constraints(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quiet_hours: dict[str, str] = Field(default_factory=dict)
    windows: dict[Segment, list[str]] = Field(default_factory=dict)
    banned_terms: dict[Segment, list[str]] = Field(default_factory=dict)
    columns: dict[Segment, dict[str, str]] = Field(default_factory=dict)
    holiday_banned_categories: list[str] = Field(default_factory=list)

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: dict[Segment, list[str]]) -> dict[Segment, list[str]]:
        for spans in v.values():
            for span in spans:
                Window.parse(span)
        return v

    @field_validator("columns")
    @classmethod
    def _days(cls, v: dict[Segment, dict[str, str]]) -> dict[Segment, dict[str, str]]:
        for days in v.values():
            bad = [d for d in days if d not in WEEKDAYS]
            if bad:
                raise ValueError(f"未知星期 {bad}，可选: {list(WEEKDAYS)}")
        return v

    def quiet(self) -> tuple[dt.time, dt.time] | None:
        if not self.quiet_hours:
            return None
        return _hhmm(self.quiet_hours["start"]), _hhmm(self.quiet_hours["end"])


class Cap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_month: int | None = Field(None, ge=1, le=31)
    per_week: int | None = Field(None, ge=1)
    per_day: int | None = Field(None, ge=1)


class PlanCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    segment: Segment
    start: dt.date
    weeks: int = Field(ge=1, le=12)
    cap: Cap = Field(default_factory=Cap)
    expect_columns: bool = False
    expect_left_out: bool = False


class RandomPlans(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(0, ge=0, le=50)
    start_between: tuple[dt.date, dt.date] = (dt.date(2026, 1, 1), dt.date(2026, 12, 1))
    weeks: tuple[int, int] = (1, 3)
    per_month: list[int | None] = Field(default_factory=lambda: [None])


def load_cases(ctx: EvalContext) -> tuple[Constraints, list[PlanCase]]:
    path = ctx.settings.eval_dir / "schedule" / "plans.yaml"
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise EvalInputError(f"{path}: 顶层应含 constraints、plans、random")
    try:
        constraints = Constraints.model_validate(raw.get("constraints") or {})
        rand = RandomPlans.model_validate(raw.get("random") or {})
    except ValueError as exc:
        raise EvalInputError(f"{path}: {exc}") from exc
    cases = validate_list(path, raw.get("plans"), PlanCase)
    rng = ctx.rng("schedule")
    lo, hi = rand.start_between
    segments = list(load_segments(ctx.settings).ids)
    for n in range(rand.count):
        start = lo + dt.timedelta(days=rng.randrange(max(1, (hi - lo).days)))
        per_month = rng.choice(rand.per_month)
        cases.append(
            PlanCase(
                id=f"random-{n + 1}",
                segment=rng.choice(segments),
                start=start,
                weeks=rng.randint(*rand.weeks),
                cap=Cap(per_month=per_month),
            )
        )
    return constraints, ctx.limited(cases)


def _statutory_holiday(day: dt.date) -> bool:
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the package does not know yet
        return False
    return bool(on_holiday and name)


class _Tally:
    """Counts checks per constraint and remembers the failures."""

    def __init__(self, case_id: str, failures: list[CaseFailure]):
        self.case_id = case_id
        self.failures = failures
        self.checked: Counter[str] = Counter()
        self.violated: Counter[str] = Counter()

    def __call__(self, constraint: str, ok: bool, why: str = "", **detail: Any) -> None:
        self.checked[constraint] += 1
        if not ok:
            self.violated[constraint] += 1
            self.failures.append(CaseFailure(id=f"{self.case_id}:{constraint}", reason=why, detail=detail))


def _check_cap(case: PlanCase, slots: list[Any], tally: _Tally) -> None:
    month: Counter[tuple[str, str]] = Counter()
    week: Counter[tuple[str, tuple[int, int]]] = Counter()
    day: Counter[tuple[str, dt.date]] = Counter()
    for s in slots:
        if s.channel not in MASS_CHANNELS:
            continue
        d = s.at.date()
        for g in s.groups:
            month[(g, f"{d:%Y-%m}")] += 1
            week[(g, tuple(d.isocalendar())[:2])] += 1
            day[(g, d)] += 1
    for (g, m), n in month.items():
        y, mo = map(int, m.split("-"))
        days = calendar.monthrange(y, mo)[1]
        limit = min(case.cap.per_month or days, days)
        tally("cap", n <= limit, f"群 {g} 在 {m} 有 {n} 条群发，上限 {limit}")
    if case.cap.per_week:
        for (g, w), n in week.items():
            tally("cap", n <= case.cap.per_week, f"群 {g} 在第 {w} 周有 {n} 条，上限 {case.cap.per_week}")
    if case.cap.per_day:
        for (g, d), n in day.items():
            tally("cap", n <= case.cap.per_day, f"群 {g} 在 {d} 有 {n} 条，上限 {case.cap.per_day}")


def _check_columns(case: PlanCase, columns: dict[str, str], slots: list[Any], tally: _Tally) -> None:
    by_day: dict[dt.date, list[Any]] = {}
    for s in slots:
        by_day.setdefault(s.at.date(), []).append(s)
    keyword_day = {kw: WEEKDAYS.index(day) for day, kw in columns.items()}
    for s in slots:
        column = getattr(s, "column", "") or ""
        for kw, weekday in keyword_day.items():
            if column and kw in column:
                tally("columns", s.at.weekday() == weekday, f"栏目“{column}”排在了 {s.at:%Y-%m-%d %a}")
    if not case.expect_columns:
        return
    for i in range(case.weeks * 7):
        d = case.start + dt.timedelta(days=i)
        kw = columns.get(WEEKDAYS[d.weekday()])
        if kw and not _statutory_holiday(d):
            found = any(kw in s.theme for s in by_day.get(d, []))
            tally("columns", found, f"{d} 缺少含“{kw}”的固定栏目")


def _check_plan(case: PlanCase, plan: Any, constraints: Constraints, tally: _Tally) -> dict[str, int]:
    from copilot.compliance import check

    quiet = constraints.quiet()
    windows = [Window.parse(w) for w in constraints.windows.get(case.segment, [])]
    banned = constraints.banned_terms.get(case.segment, [])
    slots = list(plan.slots)
    blocked = 0
    for s in slots:
        t = s.at.time()  # wall-clock time in the plan's own time zone
        where = f"{s.at:%Y-%m-%d %H:%M} {s.theme}"
        if quiet:
            q_start, q_end = quiet
            in_quiet = (t > q_start or t < q_end) if q_start > q_end else (q_start < t < q_end)
            tally("quiet_hours", not in_quiet, f"{where}: 落在休息时段", at=s.at.isoformat())
        if windows:
            tally(
                "windows",
                any(w.contains(t) for w in windows),
                f"{where}: 不在{case.segment}允许的时段内",
                at=s.at.isoformat(),
            )
        tally("verdict", s.verdict in ("pass", "revise", "block"), f"{where}: 没有合规结论")
        if s.verdict == "block":
            blocked += 1
            tally("verdict", bool(s.findings), f"{where}: 被拦截却没有检查结果")
            body = (s.payload or {}).get("text") or (s.payload or {}).get("content")
            tally("verdict", not body, f"{where}: 被拦截的内容仍带可发送的正文")
        else:
            tally("verdict", bool(s.copy_text.strip()), f"{where}: 通过的帖子没有文案")
            again = check(s.copy_text, CheckContext(segment=case.segment, channel=s.channel))
            tally(
                "verdict",
                again.verdict != "block",
                f"{where}: 标为 {s.verdict}，独立复查却被拦截",
                findings=[f.rule for f in again.findings],
            )
        if banned:
            hit = [w for w in banned if w in s.copy_text]
            tally("banned_terms", not hit, f"{where}: 含有该客群不宜的内容 {hit}")
        if constraints.holiday_banned_categories and _statutory_holiday(s.at.date()):
            category = str(getattr(s, "category", ""))
            tally(
                "holiday_categories",
                category not in constraints.holiday_banned_categories,
                f"{where}: 法定节假日发了“{category}”类内容",
            )
    _check_cap(case, slots, tally)
    if case.segment in constraints.columns:
        _check_columns(case, constraints.columns[case.segment], slots, tally)
    if case.expect_left_out:
        capped = [x for x in plan.left_out if x.rule == "cap"]
        tally("left_out", bool(capped), "排期超过上限，却没有列出未排入的内容")
    return {"slots": len(slots), "blocked": blocked, "left_out": len(plan.left_out)}


def run(ctx: EvalContext) -> SuiteResult:
    from copilot.scheduling import CapPolicy, PlanError, plan

    constraints, cases = load_cases(ctx)
    settings = ctx.kb_settings()
    result = SuiteResult(suite="schedule")
    checked: Counter[str] = Counter()
    violated: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for case in ctx.track(cases):
        tally = _Tally(case.id, result.failures)
        try:
            p = plan(
                case.segment.value,
                case.start,
                case.weeks,
                cap_policy=CapPolicy(**case.cap.model_dump()),
                writer=ctx.writer,
                settings=settings,
            )
        except PlanError as exc:
            raise EvalInputError(f"排期用例 {case.id}: {exc}") from exc
        totals.update(_check_plan(case, p, constraints, tally))
        checked.update(tally.checked)
        violated.update(tally.violated)

    names = sorted(checked)
    total = sum(checked.values())
    result.metrics["constraint_satisfaction"] = round(1 - sum(violated.values()) / total, 4) if total else 0.0
    for name in names:
        result.metrics[f"violations.{name}"] = float(violated[name])
    result.metrics["blocked_share"] = (
        round(totals["blocked"] / totals["slots"], 4) if totals["slots"] else 1.0
    )
    result.counts.update(plans=len(cases), slots=totals["slots"], left_out=totals["left_out"], checks=total)
    result.charts.append(
        Chart(
            kind="bars",
            title="排期约束满足率",
            labels=names,
            series={"满足率": [round(1 - violated[n] / checked[n], 4) for n in names]},
        )
    )
    return result
