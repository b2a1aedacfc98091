"""The audit trail: an append-only, hash-chained log of every draft, check, schedule, RM action
and compliance review decision.

    from copilot.store import AuditStore
    st = AuditStore()
    audit_id = st.record("draft", "zhangsan", {...})

Modules, one concern each: ``schema`` (tables, row models, errors), ``engine`` (engines, the write
transaction), ``chain`` (hashing, the serialised append, verification), ``payloads`` (masking and
pseudonymisation), ``queries`` (reading and export), ``actions`` (what the RM did with a draft),
``reviews`` (the compliance review queue and decisions), ``labels`` (decisions as labelled
examples), ``audit`` (``AuditStore``, which ties them together), ``commands`` (the CLI).
See docs/audit.md.
"""

from __future__ import annotations

from copilot.store.audit import AuditStore
from copilot.store.chain import canonical_json, row_hash, verify_export_lines
from copilot.store.engine import ensure_sqlite_dir, make_engine
from copilot.store.labels import LabelExport, labelled_example
from copilot.store.payloads import SECRET_FILENAME, load_install_secret, pseudonymise
from copilot.store.reviews import DECISIONS, ReviewDecision, ReviewItem
from copilot.store.schema import (
    ACTIONS,
    GENESIS_HASH,
    RECORD_KINDS,
    ActionRefused,
    AuditError,
    AuditNotFound,
    AuditRecord,
    VerifyResult,
    audit_head,
    audit_log,
    metadata,
    utc_now_text,
)

__all__ = [
    "ACTIONS",
    "DECISIONS",
    "GENESIS_HASH",
    "RECORD_KINDS",
    "SECRET_FILENAME",
    "ActionRefused",
    "AuditError",
    "AuditNotFound",
    "AuditRecord",
    "AuditStore",
    "LabelExport",
    "ReviewDecision",
    "ReviewItem",
    "VerifyResult",
    "audit_head",
    "audit_log",
    "canonical_json",
    "ensure_sqlite_dir",
    "labelled_example",
    "load_install_secret",
    "make_engine",
    "metadata",
    "pseudonymise",
    "row_hash",
    "utc_now_text",
    "verify_export_lines",
]
