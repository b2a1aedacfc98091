"""The hash chain: canonical JSON, row hashes, the serialised append, and verification.

Each row stores ``prev_hash`` and ``row_hash = sha256(prev_hash + canonical JSON of the row)``; a
one-row anchor table (``audit_head``) holds the sequence number and hash of the newest row, so
deleting the tail is detected too. Appends are serialised (``SELECT … FOR UPDATE`` on the anchor
row in PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.store.engine import write_lock
from copilot.store.schema import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    VerifyResult,
    audit_head,
    audit_log,
    utc_now_text,
)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = canonical_json({k: row.get(k) for k in HASHED_COLUMNS})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def ensure_head(engine: Engine) -> None:
    """Create the anchor row (sequence 0, the genesis hash) unless it exists."""
    with engine.begin() as conn:
        exists = conn.execute(sa.select(audit_head.c.id).where(audit_head.c.id == 1)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        audit_head.insert().values(
                            id=1, seq=0, row_hash=GENESIS_HASH, updated_at=utc_now_text()
                        )
                    )
            except sa.exc.IntegrityError:
                pass  # created concurrently by another process


def append_row(engine: Engine, row: dict[str, Any]) -> None:
    """Append ``row`` (every column but seq, created_at and the hashes) at the head of the chain."""
    with write_lock(engine) as conn:
        head = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.row_hash)
            .where(audit_head.c.id == 1)
            .with_for_update()  # PostgreSQL: the lock row; SQLite: BEGIN IMMEDIATE already holds it
        ).one()
        row["seq"] = head.seq + 1
        row["created_at"] = utc_now_text()  # taken under the lock so time order == chain order
        row["prev_hash"] = head.row_hash
        row["row_hash"] = row_hash(head.row_hash, row)
        conn.execute(audit_log.insert().values(**row))
        conn.execute(
            audit_head.update()
            .where(audit_head.c.id == 1)
            .values(seq=row["seq"], row_hash=row["row_hash"], updated_at=row["created_at"])
        )


def read_head(engine: Engine) -> tuple[int, str]:
    """(sequence number, hash) of the newest row, as the anchor names it."""
    with engine.connect() as conn:
        h = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.row_hash).where(audit_head.c.id == 1)
        ).one()
    return int(h.seq), str(h.row_hash)


def verify_rows(
    rows: Iterable[dict[str, Any]], head_seq: int, head_hash: str, expected_head: str | None = None
) -> VerifyResult:
    """Walk ``rows`` (chain order) from the genesis hash against the anchor ``(head_seq,
    head_hash)``. Names the first broken sequence number: an altered row (hash mismatch), a deleted
    or reordered row (gap or broken link), or a deleted tail (the anchor names a later row than the
    last one). ``expected_head`` is a head hash noted earlier outside the database; the chain must
    still contain it."""
    prev, expected_seq, count, seen_expected = GENESIS_HASH, 1, 0, expected_head is None

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(ok=False, rows=count, first_broken_seq=seq, reason=reason,
                            head_seq=head_seq, head_hash=head_hash)

    for r in rows:
        seq = int(r["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                return broken(expected_seq, f"第 {expected_seq} 条记录缺失（被删除）")
            return broken(seq, f"第 {seq} 条记录序号异常")
        if r["prev_hash"] != prev:
            return broken(seq, f"第 {seq} 条记录与前一条的链接断开（记录被删除、替换或重排）")
        if row_hash(prev, r) != r["row_hash"]:
            return broken(seq, f"第 {seq} 条记录内容被修改（哈希不符）")
        if expected_head is not None and r["row_hash"] == expected_head:
            seen_expected = True
        prev, expected_seq, count = r["row_hash"], expected_seq + 1, count + 1

    last_seq = expected_seq - 1
    if head_seq > last_seq:
        return broken(last_seq + 1, f"第 {last_seq + 1} 至 {head_seq} 条记录缺失（末尾被删除）")
    if head_seq < last_seq or head_hash != prev:
        return broken(head_seq + 1 if head_seq < last_seq else last_seq,
                      "链头锚点与最后一条记录不一致（锚点或末条记录被改动）")
    if not seen_expected:
        return broken(last_seq, "外部记下的链头哈希不在链中（整条链可能被重写）")
    return VerifyResult(ok=True, rows=count, head_seq=head_seq, head_hash=head_hash)


def verify_export_lines(lines: Iterator[str] | list[str]) -> VerifyResult:
    """Re-verify a JSONL export offline (the chain must start at sequence 1)."""
    prev, expected, count = GENESIS_HASH, 1, 0
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)
        seq = int(r["seq"])
        if seq != expected or r["prev_hash"] != prev or row_hash(prev, r) != r["row_hash"]:
            return VerifyResult(ok=False, rows=count, first_broken_seq=expected,
                                reason=f"导出文件第 {expected} 条记录校验失败")
        prev, expected, count = r["row_hash"], expected + 1, count + 1
    return VerifyResult(ok=True, rows=count, head_seq=count, head_hash=prev)
