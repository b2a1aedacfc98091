"""The tables, row models and time text (copilot/store/schema.py), and the names ``copilot.store``
keeps exporting for its callers."""

from __future__ import annotations

import datetime as dt

import pytest

import copilot.store
from copilot.store.schema import HASHED_COLUMNS, RECORD_KINDS, audit_log, parse_utc, to_utc_text, utc_now_text


def test_the_hash_covers_every_column_but_the_hashes() -> None:
    assert set(HASHED_COLUMNS) == {c.name for c in audit_log.columns} - {"prev_hash", "row_hash"}
    assert "review" in RECORD_KINDS


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (dt.datetime(2026, 3, 1, 10, 15, 9, 123456, tzinfo=dt.UTC), "2026-03-01T10:15:09.123456Z"),
        (dt.datetime(2026, 3, 1, 18, 15, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))), "2026-03-01T10:15:09.000000Z"),
        (dt.datetime(2026, 3, 1, 10, 15, 9), "2026-03-01T10:15:09.000000Z"),  # naive = UTC
        ("2026-03-01T10:15:09Z", "2026-03-01T10:15:09.000000Z"),
    ],
)
def test_time_text_is_fixed_width_utc(when: dt.datetime | str, text: str) -> None:
    assert to_utc_text(when) == text
    assert parse_utc(text).tzinfo is not None
    assert len(utc_now_text()) == len(text)


def test_the_package_keeps_its_names() -> None:
    for name in ("AuditStore", "AuditRecord", "VerifyResult", "AuditError", "AuditNotFound", "ActionRefused",
                 "RECORD_KINDS", "ACTIONS", "GENESIS_HASH", "make_engine", "ensure_sqlite_dir", "row_hash",
                 "canonical_json", "verify_export_lines", "load_install_secret", "pseudonymise", "metadata",
                 "audit_log", "audit_head", "ReviewItem", "ReviewDecision"):
        assert hasattr(copilot.store, name), name
