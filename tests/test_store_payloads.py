"""Pseudonymisation and masking before a payload is stored (copilot/store/payloads.py)."""

from __future__ import annotations

from pathlib import Path

from store_support import *  # noqa: F403
from store_support import EXTERNAL_ID

from copilot.config import Settings
from copilot.store import AuditStore


def test_customer_ref_is_stable_per_install_and_differs_between_installs(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    a = AuditStore(db_url, settings=settings)
    b = AuditStore(db_url, settings=settings)
    other = AuditStore(db_url, settings=Settings(data_dir=tmp_path / "other"))
    assert a.customer_ref(EXTERNAL_ID) == b.customer_ref(EXTERNAL_ID)
    assert a.customer_ref(EXTERNAL_ID) != a.customer_ref(EXTERNAL_ID + "x")
    assert other.customer_ref(EXTERNAL_ID) != a.customer_ref(EXTERNAL_ID)
    key = settings.data_dir / "audit_secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
