"""Reading the trail: one record, filtered pages (newest first), chain-order streaming, export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.store.chain import canonical_json
from copilot.store.schema import AuditError, AuditNotFound, AuditRecord, audit_log, record_of, to_utc_text


def filters(**f: Any) -> list[Any]:
    """SQL conditions for ``actor``, ``kind``, ``verdict``, ``customer_ref``, ``since``, ``until``
    (None means no filter)."""
    conds: list[Any] = []
    if f.get("actor") is not None:
        conds.append(audit_log.c.actor == f["actor"])
    if f.get("kind") is not None:
        conds.append(audit_log.c.kind == f["kind"])
    if f.get("verdict") is not None:
        conds.append(audit_log.c.verdict == f["verdict"])
    if f.get("customer_ref") is not None:
        conds.append(audit_log.c.customer_ref == f["customer_ref"])
    try:
        if f.get("since") is not None:
            conds.append(audit_log.c.created_at >= to_utc_text(f["since"]))
        if f.get("until") is not None:
            conds.append(audit_log.c.created_at < to_utc_text(f["until"]))
    except ValueError as exc:
        raise AuditError(f"无效的时间: {exc}") from exc
    return conds


def check_page(limit: int, offset: int) -> None:
    if limit < 1 or limit > 1000:
        raise AuditError("limit 应在 1 到 1000 之间")
    if offset < 0:
        raise AuditError("offset 不能为负数")


def get_record(engine: Engine, audit_id: str, *, with_actions: bool = True) -> AuditRecord:
    """One record; with its RM actions (kind ``action`` pointing at it) in chain order."""
    with engine.connect() as conn:
        r = conn.execute(sa.select(audit_log).where(audit_log.c.audit_id == audit_id)).first()
        if r is None:
            raise AuditNotFound(f"审计记录不存在: {audit_id}")
        rec = record_of(r)
        if with_actions:
            # Only actions: review decisions also point at a draft, but are compliance's, not the RM's.
            acts = conn.execute(
                sa.select(audit_log)
                .where(audit_log.c.ref_audit_id == audit_id, audit_log.c.kind == "action")
                .order_by(audit_log.c.seq)
            )
            rec.actions = [record_of(a) for a in acts]
    return rec


def query_records(
    engine: Engine, conds: list[Any], limit: int = 50, offset: int = 0
) -> tuple[list[AuditRecord], int]:
    """A page of the rows matching ``conds``, newest first, and how many match in all."""
    check_page(limit, offset)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*conds)).scalar_one()
        rows = conn.execute(
            sa.select(audit_log).where(*conds).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
        )
        return [record_of(r) for r in rows], int(total)


def iter_rows(engine: Engine, conds: list[Any], batch: int = 500) -> Iterator[dict[str, Any]]:
    """All rows matching ``conds`` in chain order, streamed in batches (keyset pagination on seq)."""
    last = 0
    while True:
        with engine.connect() as conn:
            stmt = sa.select(audit_log).where(audit_log.c.seq > last, *conds)
            rows = conn.execute(stmt.order_by(audit_log.c.seq).limit(batch)).mappings().all()
        if not rows:
            return
        for r in rows:
            yield dict(r)
        last = rows[-1]["seq"]


def export_rows(fmt: Literal["csv", "jsonl"], fh: IO[str], rows: Iterator[dict[str, Any]]) -> int:
    """Write rows to a text file handle as CSV or JSONL; returns the number of rows. The hashes
    are included, so an export can be re-verified away from the database."""
    if fmt not in ("csv", "jsonl"):
        raise AuditError(f"不支持的导出格式: {fmt!r}（应为 csv 或 jsonl）")
    columns = [c.name for c in audit_log.columns]
    writer = csv.DictWriter(fh, fieldnames=columns) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    n = 0
    for r in rows:
        if writer:
            writer.writerow(r)  # payload stays the exact canonical JSON text that was hashed
        else:
            fh.write(canonical_json(r) + "\n")
        n += 1
    return n

