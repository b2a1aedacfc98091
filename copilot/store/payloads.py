"""What a payload becomes before it is stored: plain JSON, a pseudonymous customer, masked text.

Customer identifiers never reach the database: ``external_userid``/``customer_ref`` in a payload are
replaced by an HMAC with a per-install secret kept in the data directory, and all free text is
passed through ``copilot.compliance.mask_pii`` before it is stored (fails closed: no masking, no row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from copilot.store.schema import AuditError

SECRET_FILENAME = "audit_secret.key"

# Payload keys that carry a raw customer identifier; they are replaced by ``customer_ref``.
CUSTOMER_ID_KEYS = ("external_userid", "customer_ref")
# Identifier-like keys whose values are not free text and so are not run through mask_pii.
UNMASKED_KEYS = frozenset(
    {
        "audit_id", "chunk_id", "doc_id", "source_path", "version", "effective_date", "expiry_date",
        "writer", "model", "rule", "category", "severity", "verdict", "segment", "product_code",
        "product_codes", "risk_level", "customer_risk", "channel", "direction", "kind", "action",
        "at", "format", "n", "score", "start", "end", "citation",
        # review decisions (copilot/store/reviews.py)
        "decision", "categories", "item_kind", "item_verdict",
    }
)


def load_install_secret(data_dir: Path) -> bytes:
    """The per-install HMAC key for customer references; created (mode 0600) on first use."""
    path = data_dir / SECRET_FILENAME
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def pseudonymise(raw_id: str, secret: bytes) -> str:
    """A stable reference for a customer that cannot be turned back into the WeCom id."""
    return "c_" + hmac.new(secret, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def mask_tree(value: Any, mask: Callable[[str], str], key: str = "") -> Any:
    """Every free-text string in a JSON tree through ``mask``; identifier keys are left alone."""
    if isinstance(value, str):
        return value if key in UNMASKED_KEYS else mask(value)
    if isinstance(value, dict):
        return {k: mask_tree(v, mask, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_tree(v, mask, key) for v in value]
    return value


def plain(value: Any) -> Any:
    """Pydantic models (Draft, Verdict, Citation …) become JSON-ready dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def verdict_of(verdict: Any) -> tuple[str, dict[str, Any] | None]:
    """Accept "pass"|"revise"|"block", a Verdict model or its dict; return (kind, full dict)."""
    if isinstance(verdict, BaseModel):
        verdict = verdict.model_dump(mode="json")
    if isinstance(verdict, dict):
        kind = str(verdict.get("verdict", ""))
        full: dict[str, Any] | None = verdict
    else:
        kind, full = str(verdict or ""), None
    if kind not in ("pass", "revise", "block"):
        raise AuditError(f"无效的合规结论: {kind!r}（应为 pass、revise 或 block）")
    return kind, full


def masked(text: str) -> str:
    """``text`` as the store keeps it (PII masked)."""
    from copilot.compliance import mask_pii  # built by the compliance area; imported lazily

    return mask_pii(text)


def prepare_payload(
    payload: dict[str, Any], customer_ref: Callable[[str], str]
) -> tuple[dict[str, Any], str | None, str | None, str | None]:
    """(masked payload, pseudonymous customer, verdict kind, segment) of a payload to store."""
    data = plain(dict(payload))
    raw_id = next((data.pop(k) for k in CUSTOMER_ID_KEYS if data.get(k)), None)
    for k in CUSTOMER_ID_KEYS:
        data.pop(k, None)
    ref = customer_ref(str(raw_id)) if raw_id else None
    verdict_kind: str | None = None
    if data.get("verdict") is not None:
        verdict_kind, _ = verdict_of(data["verdict"])
    segment = data.get("segment") or None
    from copilot.compliance import mask_pii  # fails closed: no masking function, no row

    return mask_tree(data, mask_pii), ref, verdict_kind, segment
