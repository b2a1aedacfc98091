"""The audit tables, their row models, the store's errors and the fixed-width UTC time text."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field

GENESIS_HASH = "0" * 64
RECORD_KINDS = ("draft", "check", "schedule", "action", "review")
ACTIONS = ("sent", "edited", "discarded")

metadata = sa.MetaData()

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("audit_id", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
    # ISO-8601 UTC text with fixed width: sorts correctly and hashes identically on every backend.
    sa.Column("created_at", sa.String(32), nullable=False, index=True),
    sa.Column("segment", sa.String(32), nullable=True),
    sa.Column("customer_ref", sa.String(64), nullable=True, index=True),
    sa.Column("verdict", sa.String(16), nullable=True),
    sa.Column("ref_audit_id", sa.String(32), nullable=True, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
)

# One row (id=1): the anchor. It is the lock appends serialise on and the witness of the last row.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

# The columns a row's hash covers, in the order of the documented formula (docs/audit.md).
HASHED_COLUMNS = (
    "seq", "audit_id", "kind", "actor", "created_at", "segment", "customer_ref", "verdict",
    "ref_audit_id", "payload",
)


class AuditError(ValueError):
    """A request the audit trail refuses; the message is Chinese and shown to the user."""


class AuditNotFound(AuditError, LookupError):
    pass


class ActionRefused(AuditError):
    pass


class AuditRecord(BaseModel):
    seq: int
    audit_id: str
    kind: str
    actor: str
    created_at: dt.datetime
    segment: str | None = None
    customer_ref: str | None = None
    verdict: str | None = None
    ref_audit_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    row_hash: str
    actions: list[AuditRecord] = Field(default_factory=list)  # filled by AuditStore.get()


class VerifyResult(BaseModel):
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


def utc_now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_utc_text(when: dt.datetime | str) -> str:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:  # naive datetimes are taken as UTC, the store's only clock
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def record_of(r: Any) -> AuditRecord:
    """A database row (or its mapping) as an AuditRecord."""
    m = r._mapping if hasattr(r, "_mapping") else r
    return AuditRecord(
        seq=m["seq"],
        audit_id=m["audit_id"],
        kind=m["kind"],
        actor=m["actor"],
        created_at=parse_utc(m["created_at"]),
        segment=m["segment"],
        customer_ref=m["customer_ref"],
        verdict=m["verdict"],
        ref_audit_id=m["ref_audit_id"],
        payload=json.loads(m["payload"]),
        prev_hash=m["prev_hash"],
        row_hash=m["row_hash"],
    )
