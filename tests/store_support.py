"""Fixtures and helpers shared by the audit store tests (tests/test_store_*.py).

Import with ``from store_support import *``. ``store`` runs on SQLite and on PostgreSQL (the
``db_url`` fixture in conftest.py: a fresh schema per test, dropped afterwards).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from copilot.config import Settings
from copilot.domain import CheckContext
from copilot.store import AuditStore

PHONE = "13812345678"
ID_NUMBER = "110101199003074514"
EXTERNAL_ID = "wmQHcustomer0001EXT"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(db_url: str, settings: Settings) -> AuditStore:
    return AuditStore(db_url, settings=settings)


def draft_payload(**extra: object) -> dict:
    payload = {
        "segment": "pension",
        "external_userid": EXTERNAL_ID,
        "message": f"我想买点稳当的理财，我电话 {PHONE}，身份证 {ID_NUMBER}",
        "citations": [
            {"n": 1, "doc_id": "product/QH-WM-R2-002", "chunk_id": "c-77", "title": "安享养老",
             "version": "2025.2", "effective_date": "2025-01-01"}
        ],
        "writer": "template",
        "model": "",
        "findings": [],
        "verdict": "pass",
        "draft": "您好，安享养老一年持有期是R2级理财[1]。理财非存款、产品有风险、投资须谨慎。",
    }
    payload.update(extra)
    return payload


def checked_payload(text: str, segment: str | None = None, **context: object) -> dict:
    """What ``POST /v1/check`` records: the real checker's verdict on ``text``."""
    from copilot.compliance import check

    ctx = CheckContext(segment=segment, **context)
    verdict = check(text, ctx)
    return {"segment": segment, "context": ctx.model_dump(mode="json"), "text": text, "verdict": verdict,
            "findings": verdict.findings, "revised": verdict.revised}


def all_text(store: AuditStore) -> str:
    """Every value in the audit tables, as the database holds them."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log")).all()
    return json.dumps([[str(v) for v in r] for r in rows], ensure_ascii=False)


def execute(store: AuditStore, sql: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def fill(store: AuditStore, n: int = 6) -> list[str]:
    return [store.record("draft", f"rm{i % 2}", draft_payload(draft=f"第{i}条草稿")) for i in range(n)]


__all__ = [
    "EXTERNAL_ID", "ID_NUMBER", "PHONE", "all_text", "checked_payload", "draft_payload", "execute", "fill",
    "settings", "store",
]
