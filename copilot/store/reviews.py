"""The compliance review queue: flagged drafts and checks, and the decisions reviewers append.

A decision is an ordinary chained row (kind ``review``, ``ref_audit_id`` = the item, actor = the
reviewer), so ``copilot audit verify`` covers it; nothing is ever updated in place. The latest
decision for an item is the one the queue shows. Items are read straight from the stored payloads
(already PII-masked).

Finding filters use the canonical JSON the payload is stored as (sorted keys, no spaces, strings
escaped), so ``"category":"guarantee"`` can only occur as a key/value pair and never inside text:
a portable ``LIKE`` on SQLite and PostgreSQL alike, with no change to the chained columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection, Engine

from copilot.store.chain import canonical_json
from copilot.store.queries import check_page, filters, iter_rows
from copilot.store.schema import AuditError, AuditRecord, audit_log, record_of

DECISIONS = ("correct", "wrong")
REVIEWABLE_KINDS = ("draft", "check")
MAX_NOTE_CHARS = 1000
VERDICTS = ("pass", "revise", "block")
# Categories a reviewer cannot assign: an internal error is the checker's failure, not a label.
_NOT_LABELS = frozenset({"internal"})

Decision = Literal["correct", "wrong"]
VerdictKind = Literal["pass", "revise", "block"]


class ReviewDecision(BaseModel):
    """One reviewer's decision on one item, as chained."""

    model_config = ConfigDict(frozen=True)

    review_id: str
    reviewer: str
    decided_at: dt.datetime
    decision: Decision
    note: str = ""
    # The verdict the reviewer holds right: the checker's own for "correct"; for "wrong" the one
    # given, or None when the reviewer only said it was wrong.
    expected_verdict: VerdictKind | None = None
    # The categories the reviewer holds right; None = as the checker found them.
    categories: list[str] | None = None


class ReviewItem(BaseModel):
    """A draft or check as a compliance reviewer sees it: masked text, verdict, findings, decision."""

    model_config = ConfigDict(frozen=True)

    audit_id: str
    kind: Literal["draft", "check"]
    rm: str  # who drafted or checked it
    created_at: dt.datetime
    segment: str | None = None
    channel: str = "one_to_one"
    direction: str = "outbound"
    customer_risk: str | None = None
    product_codes: list[str] = Field(default_factory=list)
    text: str  # the text the checker judged (a draft's reply, a check's text), PII-masked
    message: str | None = None  # for drafts: the customer's message it answers
    revised: str | None = None
    verdict: str | None = None
    # As recorded: rule, category, severity, span, message … and whatever the checker adds
    # (``source`` rule|model, ``score``), passed through untouched.
    findings: list[dict[str, Any]] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)  # distinct finding categories
    decision: ReviewDecision | None = None  # the latest
    decisions: int = 0  # how many decisions were recorded (the history is in the trail)


# --- deciding ------------------------------------------------------------------------------------


def review_payload(
    item: AuditRecord,
    decision: str,
    note: str = "",
    expected_verdict: str | None = None,
    categories: list[str] | None = None,
) -> dict[str, Any]:
    """The payload of a decision row on ``item``, or AuditError (Chinese) saying what is wrong."""
    if item.kind not in REVIEWABLE_KINDS:
        raise AuditError(f"只能复核草稿或合规检查记录（该记录类型为 {item.kind}）")
    if decision not in DECISIONS:
        raise AuditError(f"无效的复核结论: {decision!r}（应为 correct 或 wrong）")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise AuditError(f"复核说明过长（上限 {MAX_NOTE_CHARS} 字）")
    if decision == "correct":
        if expected_verdict not in (None, item.verdict) or categories is not None:
            raise AuditError("复核为“正确”时不能另给结论或类别；如结论有误请选择“有误”")
        return {"decision": decision, "note": note, "verdict": item.verdict,
                "item_kind": item.kind, "item_verdict": item.verdict}
    if not note:
        raise AuditError("复核为“有误”时请填写说明")
    if expected_verdict is not None and expected_verdict not in VERDICTS:
        raise AuditError(f"无效的合规结论: {expected_verdict!r}（应为 pass、revise 或 block）")
    if expected_verdict is not None and expected_verdict == item.verdict and categories is None:
        raise AuditError("给出的正确结论与原结论相同：请同时给出正确的违规类别，或不指定结论")
    payload: dict[str, Any] = {"decision": decision, "note": note, "item_kind": item.kind,
                               "item_verdict": item.verdict}
    if expected_verdict is not None:
        payload["verdict"] = expected_verdict
    if categories is not None:
        payload["categories"] = _checked_categories(categories, expected_verdict)
    return payload


def _checked_categories(categories: list[str], expected_verdict: str | None) -> list[str]:
    from copilot.compliance import CATEGORIES

    unknown = [c for c in categories if c not in CATEGORIES or c in _NOT_LABELS]
    if unknown:
        allowed = "、".join(sorted(set(CATEGORIES) - _NOT_LABELS))
        raise AuditError(f"未知的违规类别: {'、'.join(map(str, unknown))}（可选：{allowed}）")
    if expected_verdict == "pass" and categories:
        raise AuditError("正确结论为“通过”时不应再列违规类别")
    return sorted(set(categories))


def decision_of(rec: AuditRecord) -> ReviewDecision:
    p = rec.payload
    return ReviewDecision(
        review_id=rec.audit_id,
        reviewer=rec.actor,
        decided_at=rec.created_at,
        decision=p.get("decision", "wrong"),
        note=p.get("note") or "",
        expected_verdict=rec.verdict,
        categories=p.get("categories"),
    )


# --- the queue -----------------------------------------------------------------------------------


def _json_pair(key: str, value: str) -> str:
    return canonical_json({key: value})[1:-1]  # '"category":"guarantee"', exactly as stored


def queue_conditions(
    *,
    category: str | None = None,
    segment: str | None = None,
    rm: str | None = None,
    kind: str | None = None,
    verdict: str | None = None,
    decided: bool | None = None,
    since: dt.datetime | str | None = None,
    until: dt.datetime | str | None = None,
) -> list[Any]:
    """SQL conditions for the queue: drafts and checks that were blocked, sent back for revision
    or carry any finding, narrowed by the filters (None means no filter)."""
    if kind is not None and kind not in REVIEWABLE_KINDS:
        raise AuditError(f"复核队列只包含草稿和合规检查（draft、check），收到 {kind!r}")
    conds = filters(actor=rm, kind=kind, verdict=verdict, since=since, until=until)
    conds += [
        audit_log.c.kind.in_(REVIEWABLE_KINDS),
        sa.or_(audit_log.c.verdict.in_(("revise", "block")), audit_log.c.payload.contains('"findings":[{')),
    ]
    if segment is not None:
        conds.append(audit_log.c.segment == segment)
    if category is not None:
        from copilot.compliance import CATEGORIES

        if category not in CATEGORIES:
            raise AuditError(f"未知的违规类别: {category}（可选：{'、'.join(sorted(CATEGORIES))}）")
        conds.append(audit_log.c.payload.contains(_json_pair("category", category), autoescape=True))
    if decided is not None:
        r = audit_log.alias("decision_row")
        has = sa.exists().where(r.c.kind == "review", r.c.ref_audit_id == audit_log.c.audit_id)
        conds.append(has if decided else ~has)
    return conds


def _decisions(conn: Connection, ids: list[str]) -> dict[str, list[ReviewDecision]]:
    out: dict[str, list[ReviewDecision]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        sa.select(audit_log)
        .where(audit_log.c.kind == "review", audit_log.c.ref_audit_id.in_(ids))
        .order_by(audit_log.c.seq)
    )
    for r in rows:
        rec = record_of(r)
        out[str(rec.ref_audit_id)].append(decision_of(rec))
    return out


def item_of(rec: AuditRecord, decisions: list[ReviewDecision]) -> ReviewItem:
    """The reviewer's view of a draft or check row (``decisions`` oldest first)."""
    p = rec.payload
    findings = p.get("findings")
    if findings is None and isinstance(p.get("verdict"), dict):
        findings = p["verdict"].get("findings")
    findings = [f for f in findings or [] if isinstance(f, dict)]
    ctx = p.get("context") or {}
    text = p.get("draft" if rec.kind == "draft" else "text")
    return ReviewItem(
        audit_id=rec.audit_id,
        kind=rec.kind,  # type: ignore[arg-type]
        rm=rec.actor,
        created_at=rec.created_at,
        segment=rec.segment,
        channel=ctx.get("channel") or "one_to_one",
        direction=ctx.get("direction") or "outbound",
        customer_risk=ctx.get("customer_risk"),
        product_codes=list(ctx.get("product_codes") or []),
        text="" if text is None else str(text),
        message=p.get("message") if rec.kind == "draft" else None,
        revised=p.get("revised"),
        verdict=rec.verdict,
        findings=findings,
        categories=sorted({str(f["category"]) for f in findings if f.get("category")}),
        decision=decisions[-1] if decisions else None,
        decisions=len(decisions),
    )


def review_queue(engine: Engine, conds: list[Any], limit: int = 50, offset: int = 0) -> tuple[list[ReviewItem], int]:
    """A page of the queue, newest first, each item with its latest decision; and the total."""
    check_page(limit, offset)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*conds)).scalar_one()
        recs = [record_of(r) for r in conn.execute(
            sa.select(audit_log).where(*conds).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
        )]
        decided = _decisions(conn, [r.audit_id for r in recs])
    return [item_of(r, decided[r.audit_id]) for r in recs], int(total)


def review_item(engine: Engine, rec: AuditRecord) -> ReviewItem:
    """One draft or check with its decisions (AuditError for any other kind of row)."""
    if rec.kind not in REVIEWABLE_KINDS:
        raise AuditError(f"只能复核草稿或合规检查记录（该记录类型为 {rec.kind}）")
    with engine.connect() as conn:
        return item_of(rec, _decisions(conn, [rec.audit_id])[rec.audit_id])


def decided_items(engine: Engine, batch: int = 200) -> Iterator[ReviewItem]:
    """Every item that has a decision, in chain order of the item, with its latest decision."""
    reviewed: list[str] = []
    seen: set[str] = set()
    for r in iter_rows(engine, [audit_log.c.kind == "review"]):
        ref = r["ref_audit_id"]
        if ref and ref not in seen:
            seen.add(ref)
            reviewed.append(ref)
    items: list[tuple[int, ReviewItem]] = []
    for start in range(0, len(reviewed), batch):
        ids = reviewed[start:start + batch]
        with engine.connect() as conn:
            recs = [record_of(r) for r in conn.execute(
                sa.select(audit_log).where(audit_log.c.audit_id.in_(ids), audit_log.c.kind.in_(REVIEWABLE_KINDS))
            )]
            decided = _decisions(conn, [r.audit_id for r in recs])
        items += [(rec.seq, item_of(rec, decided[rec.audit_id])) for rec in recs]
    for _, item in sorted(items, key=lambda pair: pair[0]):
        yield item
