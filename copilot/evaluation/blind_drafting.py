"""Blind drafting batches: everyday questions written with their expectations before any run.

A batch (``eval/drafting/blind/batch-NN.yaml``) lists questions with what a useful answer must
name (``must_name``: groups of names, one of each group must appear) and the figures a correct
answer may quote (``allowed_figures``). Each draft is scored on:

- ``useful_rate``: it names one item of every ``must_name`` group; for a question the knowledge
  base cannot answer (``nothing_relevant``) it says the RM will check, and names no product;
- ``grounded_rate``: every figure in it appears in a passage it cites (with the facts the cited
  document declares), in the batch's ``allowed_figures`` or in the customer's own message;
- ``within_allowed_rate``: the batch author's stricter reading: every figure is one of the
  question's ``allowed_figures`` (or the customer's own);
- ``unsafe_sendable``: drafts marked sendable that an independent ``check()`` blocks;
- ``ungrounded_sendable``: drafts marked sendable that quote a figure with no source.

The first run of a batch is its honest figure: it is recorded in ``first_seen.yaml`` beside the
batches (``copilot eval --suite drafting --record-first-seen``) and never overwritten; later runs are
reported as "current" next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from copilot.domain import CheckContext, CustomerProfile, Draft, Segment, Turn
from copilot.drafting.grounding import ungrounded_facts
from copilot.evaluation import grounding
from copilot.evaluation.commands import git_commit
from copilot.evaluation.golden import read_yaml, validate_list
from copilot.evaluation.metrics import share
from copilot.evaluation.report import CaseFailure

if TYPE_CHECKING:
    from copilot.evaluation.drafting import Inspector
    from copilot.evaluation.report import SuiteResult
    from copilot.evaluation.runner import EvalContext

CHECK_WORDS = ("核实", "确认", "查询", "了解清楚", "问清楚")  # "I'll check": the honest non-answer
FIRST_SEEN = "first_seen.yaml"


class BlindQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    segment: Segment
    channel: Literal["one_to_one", "group", "moments"] = "one_to_one"
    customer_risk: str | None = None
    message: str = Field(min_length=1)
    history: list[Turn] = Field(default_factory=list)  # earlier turns, for follow-up questions
    must_name: list[list[str]] = Field(default_factory=list)
    allowed_figures: list[str] = Field(default_factory=list)
    nothing_relevant: bool = False
    note: str = ""

    def customer(self) -> CustomerProfile:
        extra = {"risk_level": self.customer_risk} if self.customer_risk else {}
        return CustomerProfile(segment=self.segment, **extra)


class BlindScore(BaseModel):
    id: str
    useful: bool
    grounded: bool
    sendable: bool
    unsafe_sendable: bool
    ungrounded: list[str]
    outside_allowed: list[str]
    missing: list[list[str]]
    writer: str
    draft: str


def batch_files(eval_dir: Path) -> list[Path]:
    return sorted((eval_dir / "drafting" / "blind").glob("batch-*.yaml"))


def load_batch(path: Path) -> list[BlindQuestion]:
    return validate_list(path, read_yaml(path), BlindQuestion)


def score(
    q: BlindQuestion, d: Draft, sources: list[str], aliases: dict[str, list[str]], guardrails: Path
) -> BlindScore:
    """Score one draft; ``sources`` are the cited passages with their documents' declared facts."""
    from copilot.compliance import check

    text = d.draft
    allowed = "\n".join(q.allowed_figures)
    asked = " ".join([q.message, *(t.text for t in q.history if t.role == "customer")])
    g = grounding.check_grounding(text, [*sources, allowed], aliases, asked)
    ungrounded = [f.text for f in g.ungrounded if f.kind != "product"]
    outside = [f.text for f in ungrounded_facts(text, [allowed], asked)]
    plain = grounding.compact(text)
    missing = [grp for grp in q.must_name if not any(grounding.compact(n) in plain for n in grp)]
    if q.nothing_relevant:
        useful = any(w in text for w in CHECK_WORDS) and not grounding.product_mentions(text, aliases)
    else:
        useful = not missing
    ctx = CheckContext(
        segment=q.segment, customer_risk=q.customer().risk_level, channel=q.channel, direction="outbound"
    )
    blocked = check(text, ctx, rules_dir=guardrails).verdict == "block"
    return BlindScore(
        id=q.id,
        useful=useful,
        grounded=not ungrounded,
        sendable=d.sendable,
        unsafe_sendable=d.sendable and blocked,
        ungrounded=ungrounded,
        outside_allowed=outside,
        missing=missing,
        writer=d.writer,
        draft=text,
    )


def summarize(scores: list[BlindScore]) -> dict[str, float]:
    return {
        "questions": float(len(scores)),
        "useful_rate": round(share(s.useful for s in scores), 4),
        "grounded_rate": round(share(s.grounded for s in scores), 4),
        "within_allowed_rate": round(share(not s.outside_allowed for s in scores), 4),
        "unsafe_sendable": float(sum(s.unsafe_sendable for s in scores)),
        "ungrounded_sendable": float(sum(s.sendable and not s.grounded for s in scores)),
    }


def read_first_seen(eval_dir: Path) -> dict[str, dict[str, Any]]:
    """Batch name -> writer -> the figures recorded at that batch's first run."""
    path = eval_dir / "drafting" / "blind" / FIRST_SEEN
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): v for k, v in (data.get("batches") or {}).items()}


def record_first_seen(
    eval_dir: Path, batch: str, writer: str, figures: dict[str, float], limit: int | None, commit: str = ""
) -> bool:
    """Write this run's figures as the batch's first-seen ones, unless some are already there.

    ``commit`` is the code the drafts were written with (taken when the run started)."""
    path = eval_dir / "drafting" / "blind" / FIRST_SEEN
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None) or {}
    batches = data.setdefault("batches", {})
    entry = batches.setdefault(batch, {})
    if writer in entry:
        return False
    entry[writer] = {
        **figures,
        "date": dt.date.today().isoformat(),
        "commit": commit or git_commit(eval_dir),
        "limit": limit,
    }
    path.write_text(
        "# First-seen figures of each blind drafting batch: written by the batch's first run, never replaced.\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=True),
        encoding="utf-8",
    )
    return True


def run_blind(ctx: EvalContext, inspector: Inspector, result: SuiteResult) -> None:
    """Each blind batch: current figures as ``<batch>.<metric>``, beside its first-seen ones."""
    from copilot.drafting import DraftRequest, draft_reply
    from copilot.evaluation.commands import git_commit

    settings = inspector.settings
    first_seen = read_first_seen(ctx.settings.eval_dir)
    commit = git_commit(ctx.settings.content_root)  # the code these drafts are written with
    for path in batch_files(ctx.settings.eval_dir):
        name = path.stem
        if ctx.writer not in first_seen.get(name, {}) and not ctx.record_first_seen:
            # a batch's first run is its honest figure: it is taken on purpose, never in passing
            result.notes.append(f"盲测批次 {name}（{ctx.writer}）尚未首测：用 --record-first-seen 运行一次并提交结果")
            continue
        scores: list[BlindScore] = []
        for q in ctx.track(ctx.limited(load_batch(path))):
            d = draft_reply(
                DraftRequest(message=q.message, customer=q.customer(), channel=q.channel, history=q.history),
                writer=ctx.writer,
                settings=settings,
            )
            sources = [f"{c.title}\n{c.heading}\n{c.text}\n{inspector.declared(c.source_path)}" for c in d.citations]
            s = score(q, d, sources, inspector.golden.products, settings.guardrails_dir)
            scores.append(s)
            if not (s.useful and s.grounded) or s.unsafe_sendable:
                why = [f"缺少 {'/'.join(g)}" for g in s.missing] + [f"无出处的数字 {f}" for f in s.ungrounded]
                if s.unsafe_sendable:
                    why.append("标为可发送，独立复查却被拦截")
                if not why:
                    why.append("知识库无相关内容，草稿却没有说明要核实或提到了产品")
                result.failures.append(
                    CaseFailure(
                        id=f"{name}/{s.id}", reason="；".join(why), detail={"draft": s.draft, "writer": s.writer}
                    )
                )
        figures = summarize(scores)
        for k, v in figures.items():
            result.metrics[f"{name}.{k}"] = v
        seen = first_seen.get(name, {}).get(ctx.writer)
        if seen is None and ctx.record_first_seen:
            record_first_seen(ctx.settings.eval_dir, name, ctx.writer, figures, ctx.limit, commit)
            seen = figures
        for k in ("useful_rate", "grounded_rate", "within_allowed_rate", "unsafe_sendable"):
            if seen and k in seen:
                result.metrics[f"{name}.first_seen.{k}"] = float(seen[k])
