"""Compliance suite: the labelled RM messages (``eval/compliance/messages.jsonl``) through ``check()``.

Each message carries its expected verdict and the categories it violates. Metrics:

- ``category.<c>.precision|recall|f1`` per category (a category counts as predicted when a
  finding of that category has severity block or revise: warnings do not change what is sent);
- ``micro.precision|recall|f1`` over all categories pooled;
- ``verdict_accuracy``: predicted verdict == expected verdict;
- ``violation_recall``: messages expected to be stopped or changed that did not pass;
- ``fpr_compliant``: messages expected to pass that did not (the false alarms an RM sees);
- ``internal_errors``: messages whose check failed internally (blocked by fail-closed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from copilot.domain import CheckContext, Segment
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.golden import read_jsonl
from copilot.evaluation.metrics import category_scores, micro_average, share
from copilot.evaluation.report import CaseFailure, Chart, SuiteResult
from copilot.evaluation.runner import EvalContext

COUNTED_SEVERITIES = {"block", "revise"}


class LabelledMessage(BaseModel):
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    channel: Literal["one_to_one", "group", "moments"] = "one_to_one"
    segment: Segment | None = None
    customer_risk: str | None = None
    product_codes: list[str] = Field(default_factory=list)
    direction: Literal["inbound", "outbound"] = "outbound"
    expected_verdict: Literal["pass", "revise", "block"]
    categories: list[str] = Field(default_factory=list)

    @field_validator("customer_risk")
    @classmethod
    def _risk(cls, v: str | None) -> str | None:
        if v is not None and v.strip().upper() not in {"C1", "C2", "C3", "C4", "C5"}:
            raise ValueError(f"客户风险等级应为 C1–C5，收到 {v!r}")
        return v.strip().upper() if v else v

    def context(self) -> CheckContext:
        return CheckContext(
            segment=self.segment,
            customer_risk=self.customer_risk,
            product_codes=self.product_codes,
            channel=self.channel,
            direction=self.direction,
        )


def messages_path(ctx: EvalContext) -> Path:
    return ctx.settings.eval_dir / "compliance" / "messages.jsonl"


def run(ctx: EvalContext) -> SuiteResult:
    from copilot.compliance import CATEGORIES, INTERNAL_ERROR, check

    path = messages_path(ctx)
    messages = ctx.limited(read_jsonl(path, LabelledMessage))
    ids = [m.id for m in messages]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise EvalInputError(f"{path}: id 重复 {dupes[:5]}")
    for m in messages:
        unknown = [c for c in m.categories if c not in CATEGORIES]
        if unknown:
            raise EvalInputError(f"{path} [{m.id}]: 未知类别 {unknown}，可选: {sorted(CATEGORIES)}")

    rules_dir = ctx.settings.guardrails_dir
    expected: list[set[str]] = []
    predicted: list[set[str]] = []
    verdicts: list[str] = []
    internal: list[bool] = []
    result = SuiteResult(suite="compliance")
    for m in ctx.track(messages):
        v = check(m.text, m.context(), rules_dir=rules_dir)
        got = {
            f.category for f in v.findings if f.severity in COUNTED_SEVERITIES and f.rule != INTERNAL_ERROR
        }
        want = set(m.categories)
        expected.append(want)
        predicted.append(got)
        verdicts.append(v.verdict)
        internal.append(any(f.rule == INTERNAL_ERROR for f in v.findings))
        if v.verdict != m.expected_verdict or got != want:
            result.failures.append(
                CaseFailure(
                    id=m.id,
                    reason=(
                        f"期望 {m.expected_verdict} {sorted(want)}，实际 {v.verdict} {sorted(got)}: "
                        f"{m.text[:60]}"
                    ),
                    detail={
                        "text": m.text,
                        "expected_verdict": m.expected_verdict,
                        "verdict": v.verdict,
                        "missed": sorted(want - got),
                        "extra": sorted(got - want),
                        "findings": [f.model_dump() for f in v.findings],
                    },
                )
            )

    scores = category_scores(expected, predicted)
    for cat, s in scores.items():
        result.metrics[f"category.{cat}.precision"] = round(s.precision, 4)
        result.metrics[f"category.{cat}.recall"] = round(s.recall, 4)
        result.metrics[f"category.{cat}.f1"] = round(s.f1, 4)
        result.counts[f"support.{cat}"] = s.support
    micro = micro_average(scores.values())
    result.metrics["micro.precision"] = round(micro.precision, 4)
    result.metrics["micro.recall"] = round(micro.recall, 4)
    result.metrics["micro.f1"] = round(micro.f1, 4)

    pairs = list(zip(messages, verdicts, strict=True))
    result.metrics["verdict_accuracy"] = round(share(v == m.expected_verdict for m, v in pairs), 4)
    violating = [(m, v) for m, v in pairs if m.expected_verdict != "pass"]
    compliant = [(m, v) for m, v in pairs if m.expected_verdict == "pass"]
    result.metrics["violation_recall"] = (
        round(share(v != "pass" for _, v in violating), 4) if violating else 1.0
    )
    result.metrics["fpr_compliant"] = round(share(v != "pass" for _, v in compliant), 4)
    result.metrics["internal_errors"] = float(sum(internal))
    result.counts.update(messages=len(messages), violating=len(violating), compliant=len(compliant))

    labelled = [c for c in scores if scores[c].support]  # categories the set actually tests
    result.charts.append(
        Chart(
            kind="bars",
            title="合规各类别 precision / recall",
            labels=labelled,
            series={
                "precision": [round(scores[c].precision, 4) for c in labelled],
                "recall": [round(scores[c].recall, 4) for c in labelled],
            },
        )
    )
    unlabelled = sorted(set(scores) - set(labelled))
    if unlabelled:
        result.notes.append(f"只出现在预测中的类别（均为误报）: {unlabelled}")
    result.notes.append("上面的标注集分数是训练分数：规则和模型都在这个集合上调过。")
    _add_blind_batches(ctx, result)
    return result


BLIND_FIGURES = ("violation_recall", "fpr_compliant", "exact_verdict")


def _add_blind_batches(ctx: EvalContext, result: SuiteResult) -> None:
    """Each blind batch: its committed first-seen figures and its figures with today's checker."""
    from copilot.compliance import check
    from copilot.evaluation.blind import batch_files, read_first_seen, run_batch, score_outcomes

    blind_dir = ctx.settings.eval_dir / "compliance" / "blind"
    first_seen = read_first_seen(blind_dir)
    rules_dir = ctx.settings.guardrails_dir
    for path in batch_files(blind_dir):
        name = path.stem
        current = score_outcomes(
            run_batch(read_jsonl(path, LabelledMessage), lambda t, c: check(t, c, rules_dir=rules_dir))
        )
        record = first_seen.get(name)
        for figure in BLIND_FIGURES:
            result.metrics[f"blind.{name}.current.{figure}"] = getattr(current, figure)
            if record is not None:
                result.metrics[f"blind.{name}.first_seen.{figure}"] = float(record[figure])
        result.counts[f"blind.{name}.messages"] = current.messages
        seen = (
            f"首次（{record['date']}，{record['product']}，{record['code_commit']}）: "
            + "，".join(f"{f} {record[f]:.3f}" for f in BLIND_FIGURES)
            if record
            else "尚无首次记录"
        )
        now = "，".join(f"{f} {getattr(current, f):.3f}" for f in BLIND_FIGURES)
        result.notes.append(f"盲测 {name}（{current.messages} 条）{seen}；当前: {now}")
