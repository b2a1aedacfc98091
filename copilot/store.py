"""The audit trail: an append-only, hash-chained log of every draft, check, schedule and RM action.

Compliance must be able to reconstruct who drafted what, from which sources, what the checker said
and what was actually sent (留痕). Each row stores ``prev_hash`` and
``row_hash = sha256(prev_hash + canonical JSON of the row)``; a one-row anchor table (``audit_head``)
holds the sequence number and hash of the newest row, so deleting the tail is detected too.
Appends are serialised (``SELECT … FOR UPDATE`` on the anchor row in PostgreSQL, ``BEGIN IMMEDIATE``
on SQLite) so concurrent writers cannot fork the chain.

Customer identifiers never reach the database: ``external_userid``/``customer_ref`` in a payload are
replaced by an HMAC with a per-install secret kept in the data directory, and all free text is
passed through ``copilot.compliance.mask_pii`` before it is stored (fails closed: no masking, no row).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection, Engine

from copilot.config import Settings, get_settings

GENESIS_HASH = "0" * 64
RECORD_KINDS = ("draft", "check", "schedule", "action")
ACTIONS = ("sent", "edited", "discarded")
SECRET_FILENAME = "audit_secret.key"

# Payload keys that carry a raw customer identifier; they are replaced by ``customer_ref``.
_CUSTOMER_ID_KEYS = ("external_userid", "customer_ref")
# Identifier-like keys whose values are not free text and so are not run through mask_pii.
_UNMASKED_KEYS = frozenset(
    {
        "audit_id", "chunk_id", "doc_id", "source_path", "version", "effective_date", "expiry_date",
        "writer", "model", "rule", "category", "severity", "verdict", "segment", "product_code",
        "product_codes", "risk_level", "customer_risk", "channel", "direction", "kind", "action",
        "at", "format", "n", "score", "start", "end", "citation",
    }
)

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

_HASHED_COLUMNS = (
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


# --- engine -----------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def make_engine(url: str) -> Engine:
    """One engine per URL, shared by the audit store and the user directory."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN is deferred and lets two
            # writers read the same head); WAL keeps readers unblocked while one writer appends.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-backed SQLite URL (the default lives in data_dir)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


# --- canonical form and hashing ----------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = canonical_json({k: row.get(k) for k in _HASHED_COLUMNS})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def utc_now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_utc_text(when: dt.datetime | str) -> str:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:  # naive datetimes are taken as UTC, the store's only clock
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- pseudonymisation and masking --------------------------------------------------------------


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


def _mask_tree(value: Any, mask: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in _UNMASKED_KEYS else mask(value)
    if isinstance(value, dict):
        return {k: _mask_tree(v, mask, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_tree(v, mask, key) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Pydantic models (Draft, Verdict, Citation …) become JSON-ready dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _verdict_of(verdict: Any) -> tuple[str, dict[str, Any] | None]:
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


# --- the store ---------------------------------------------------------------------------------


class AuditStore:
    """Append-only audit trail on SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

    def __init__(self, url: str | None = None, *, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.url = url or self.settings.resolved_database_url
        ensure_sqlite_dir(self.url)
        self.engine = make_engine(self.url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._secret: bytes | None = None
        metadata.create_all(self.engine)
        self._ensure_head()

    # -- set-up --
    def _ensure_head(self) -> None:
        with self.engine.begin() as conn:
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

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_install_secret(self.settings.data_dir)
        return self._secret

    def customer_ref(self, raw_id: str) -> str:
        """The pseudonymous reference stored for ``raw_id`` (to query one customer's records)."""
        return pseudonymise(raw_id, self.secret)

    # -- writing --
    def record(self, kind: str, actor: str, payload: dict[str, Any]) -> str:
        """Append one record and return its audit id.

        Recognised payload keys (all optional; anything else is kept as is, masked):
        ``segment``, ``external_userid`` or ``customer_ref`` (a raw customer id: stored only as an
        HMAC), ``message`` (inbound text), ``sources``/``citations`` (with versions), ``writer``,
        ``model``, ``findings``, ``verdict`` (str or Verdict), ``draft``/``final_text``.
        """
        if kind not in RECORD_KINDS:
            raise AuditError(f"无效的记录类型: {kind!r}（应为 {'、'.join(RECORD_KINDS)}）")
        return self._append(kind, actor, payload, ref_audit_id=None)

    def record_action(
        self, audit_id: str, actor: str, action: str, final_text: str | None = None, verdict: Any = None
    ) -> str:
        """Record what the RM did with a draft: ``sent`` (as drafted), ``edited`` (sent after editing,
        ``verdict`` is the re-check of the edited text) or ``discarded``. Never records a send of a
        text whose verdict is block. Returns the action's own audit id."""
        if action not in ACTIONS:
            raise AuditError(f"无效的操作: {action!r}（应为 sent、edited 或 discarded）")
        original = self.get(audit_id, with_actions=False)
        if original.kind == "action":
            raise AuditError("不能对操作记录再记录操作，请使用原草稿的审计编号")
        if original.actor != actor:
            raise ActionRefused("只能对本人的草稿记录操作")
        drafted = original.payload.get("final_text") or original.payload.get("draft") or ""
        payload: dict[str, Any] = {"action": action}
        if action == "discarded":
            if final_text is not None:
                payload["final_text"] = final_text
            return self._append("action", actor, payload, ref_audit_id=audit_id, inherit=original)
        if not final_text:
            raise AuditError("发送操作必须提供最终发送的文本")
        if verdict is None:
            raise ActionRefused("发送前必须提供对最终文本的合规检查结论")
        kind, full = _verdict_of(verdict)
        if kind == "block":
            raise ActionRefused("该文本合规检查结论为“拦截”，不能发送")
        if action == "sent":
            if original.verdict == "block":
                raise ActionRefused("原草稿合规检查结论为“拦截”，不能按原稿发送")
            if self._masked(final_text) != drafted:
                raise ActionRefused("发送文本与草稿不一致：请按“编辑后发送”(edited) 记录，并先重新检查")
        payload["final_text"] = final_text
        payload["verdict"] = full if full is not None else kind
        return self._append("action", actor, payload, ref_audit_id=audit_id, inherit=original)

    def _masked(self, text: str) -> str:
        from copilot.compliance import mask_pii  # built by the compliance area; imported lazily

        return mask_pii(text)

    def _prepare(self, payload: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None, str | None]:
        data = _plain(dict(payload))
        raw_id = next((data.pop(k) for k in _CUSTOMER_ID_KEYS if data.get(k)), None)
        for k in _CUSTOMER_ID_KEYS:
            data.pop(k, None)
        customer_ref = self.customer_ref(str(raw_id)) if raw_id else None
        verdict_kind: str | None = None
        if data.get("verdict") is not None:
            verdict_kind, _ = _verdict_of(data["verdict"])
        segment = data.get("segment") or None
        from copilot.compliance import mask_pii  # fails closed: no masking function, no row

        return _mask_tree(data, mask_pii), customer_ref, verdict_kind, segment

    def _append(
        self,
        kind: str,
        actor: str,
        payload: dict[str, Any],
        *,
        ref_audit_id: str | None,
        inherit: AuditRecord | None = None,
    ) -> str:
        actor = (actor or "").strip()
        if not actor:
            raise AuditError("缺少操作人（actor）")
        if not isinstance(payload, dict):
            raise AuditError("记录内容必须是 JSON 对象")
        data, customer_ref, verdict_kind, payload_segment = self._prepare(payload)
        audit_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "audit_id": audit_id,
            "kind": kind,
            "actor": actor,
            # An action belongs to the same segment and customer as the draft it acts on.
            "segment": inherit.segment if inherit else payload_segment,
            "customer_ref": inherit.customer_ref if inherit else customer_ref,
            "verdict": verdict_kind,
            "ref_audit_id": ref_audit_id,
            "payload": canonical_json(data),
        }
        with self._append_lock() as conn:
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
        return audit_id

    def _append_lock(self) -> Any:
        conn = self.engine.connect()
        if not self.is_postgres:
            conn = conn.execution_options(sqlite_immediate=True)
        return _TransactionScope(conn)

    # -- reading --
    def get(self, audit_id: str, *, with_actions: bool = True) -> AuditRecord:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(audit_log).where(audit_log.c.audit_id == audit_id)).first()
            if r is None:
                raise AuditNotFound(f"审计记录不存在: {audit_id}")
            rec = _record_of(r)
            if with_actions:
                acts = conn.execute(
                    sa.select(audit_log).where(audit_log.c.ref_audit_id == audit_id).order_by(audit_log.c.seq)
                )
                rec.actions = [_record_of(a) for a in acts]
        return rec

    def query(
        self,
        actor: str | None = None,
        kind: str | None = None,
        since: dt.datetime | str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        until: dt.datetime | str | None = None,
        verdict: str | None = None,
        customer_ref: str | None = None,
    ) -> tuple[list[AuditRecord], int]:
        """Newest first. ``actor`` is the isolation primitive: an RM's view passes their userid."""
        if limit < 1 or limit > 1000:
            raise AuditError("limit 应在 1 到 1000 之间")
        if offset < 0:
            raise AuditError("offset 不能为负数")
        conds = self._filters(actor=actor, kind=kind, since=since, until=until, verdict=verdict,
                              customer_ref=customer_ref)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*conds)).scalar_one()
            rows = conn.execute(
                sa.select(audit_log).where(*conds).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
            )
            return [_record_of(r) for r in rows], int(total)

    def _filters(self, **f: Any) -> list[Any]:
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
                conds.append(audit_log.c.created_at >= _to_utc_text(f["since"]))
            if f.get("until") is not None:
                conds.append(audit_log.c.created_at < _to_utc_text(f["until"]))
        except ValueError as exc:
            raise AuditError(f"无效的时间: {exc}") from exc
        return conds

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest row: note it somewhere else to anchor the chain."""
        with self.engine.connect() as conn:
            h = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.row_hash).where(audit_head.c.id == 1)
            ).one()
        return int(h.seq), str(h.row_hash)

    def iter_rows(self, batch: int = 500, **filters: Any) -> Iterator[dict[str, Any]]:
        """All rows in chain order, streamed in batches (keyset pagination on seq)."""
        conds = self._filters(**filters)
        last = 0
        while True:
            with self.engine.connect() as conn:
                stmt = sa.select(audit_log).where(audit_log.c.seq > last, *conds)
                rows = conn.execute(stmt.order_by(audit_log.c.seq).limit(batch)).mappings().all()
            if not rows:
                return
            for r in rows:
                yield dict(r)
            last = rows[-1]["seq"]

    # -- integrity --
    def verify(self, expected_head: str | None = None) -> VerifyResult:
        """Walk the chain from the genesis hash. Names the first broken sequence number: an altered
        row (hash mismatch), a deleted or reordered row (gap or broken link), or a deleted tail (the
        anchor names a later row than the last one). ``expected_head`` is a head hash noted earlier
        outside the database; the chain must still contain it."""
        head_seq, head_hash = self.head()
        prev, expected_seq, count, seen_expected = GENESIS_HASH, 1, 0, expected_head is None

        def broken(seq: int, reason: str) -> VerifyResult:
            return VerifyResult(ok=False, rows=count, first_broken_seq=seq, reason=reason,
                                head_seq=head_seq, head_hash=head_hash)

        for r in self.iter_rows():
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

    # -- export --
    def export(self, fmt: Literal["csv", "jsonl"], fh: IO[str], **filters: Any) -> int:
        """Write rows in chain order to a text file handle; returns the number of rows. The hashes
        are included, so an export can be re-verified away from the database."""
        if fmt not in ("csv", "jsonl"):
            raise AuditError(f"不支持的导出格式: {fmt!r}（应为 csv 或 jsonl）")
        columns = [c.name for c in audit_log.columns]
        writer = csv.DictWriter(fh, fieldnames=columns) if fmt == "csv" else None
        if writer:
            writer.writeheader()
        n = 0
        for r in self.iter_rows(**filters):
            if writer:
                writer.writerow(r)  # payload stays the exact canonical JSON text that was hashed
            else:
                fh.write(canonical_json(r) + "\n")
            n += 1
        return n


class _TransactionScope:
    """``with`` block: one connection, one transaction, committed on success, closed always."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self.conn.begin()
        return self.conn

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self.conn.close()


def _record_of(r: Any) -> AuditRecord:
    m = r._mapping
    return AuditRecord(
        seq=m["seq"],
        audit_id=m["audit_id"],
        kind=m["kind"],
        actor=m["actor"],
        created_at=_parse_utc(m["created_at"]),
        segment=m["segment"],
        customer_ref=m["customer_ref"],
        verdict=m["verdict"],
        ref_audit_id=m["ref_audit_id"],
        payload=json.loads(m["payload"]),
        prev_hash=m["prev_hash"],
        row_hash=m["row_hash"],
    )


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
