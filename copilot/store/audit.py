"""``AuditStore``: the one object callers use; it ties the chain, payloads, queries, actions and reviews.

Compliance must be able to reconstruct who drafted what, from which sources, what the checker said,
what was actually sent (留痕) and what a compliance reviewer decided about it afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import IO, Any, Literal

from copilot.config import Settings, get_settings
from copilot.store import actions, chain, labels, queries, reviews
from copilot.store.engine import ensure_sqlite_dir, make_engine
from copilot.store.payloads import load_install_secret, prepare_payload, pseudonymise
from copilot.store.schema import RECORD_KINDS, AuditError, AuditRecord, VerifyResult, metadata

# Kinds that only exist as a reference to another row, written by their own method.
_REF_ONLY = {"review": "record_review"}


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
        chain.ensure_head(self.engine)

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
        if kind in _REF_ONLY:
            raise AuditError(f"{kind} 记录须通过 {_REF_ONLY[kind]}() 写入")
        return self._append(kind, actor, payload, ref_audit_id=None)

    def record_action(
        self, audit_id: str, actor: str, action: str, final_text: str | None = None, verdict: Any = None
    ) -> str:
        """Record what the RM did with a draft: ``sent`` (as drafted), ``edited`` (sent after editing,
        ``verdict`` is the re-check of the edited text) or ``discarded``. Never records a send of a
        text whose verdict is block. Returns the action's own audit id."""
        actions.check_action_name(action)
        original = self.get(audit_id, with_actions=False)
        payload = actions.action_payload(original, actor, action, final_text, verdict)
        return self._append("action", actor, payload, ref_audit_id=audit_id, inherit=original)

    def record_review(
        self,
        audit_id: str,
        reviewer: str,
        decision: str,
        note: str = "",
        expected_verdict: str | None = None,
        categories: list[str] | None = None,
    ) -> str:
        """Append a compliance reviewer's decision (``correct`` | ``wrong``) on a draft or check;
        for ``wrong`` optionally the right verdict and categories. Returns the decision's audit id.
        Callers check the reviewer's role (the store does not know roles)."""
        item = self.get(audit_id, with_actions=False)
        payload = reviews.review_payload(item, decision, note, expected_verdict, categories)
        return self._append("review", reviewer, payload, ref_audit_id=audit_id, inherit=item)

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
        data, customer_ref, verdict_kind, payload_segment = prepare_payload(payload, self.customer_ref)
        audit_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "audit_id": audit_id,
            "kind": kind,
            "actor": actor,
            # An action or a review belongs to the same segment and customer as the row it is about.
            "segment": inherit.segment if inherit else payload_segment,
            "customer_ref": inherit.customer_ref if inherit else customer_ref,
            "verdict": verdict_kind,
            "ref_audit_id": ref_audit_id,
            "payload": chain.canonical_json(data),
        }
        chain.append_row(self.engine, row)
        return audit_id

    # -- reading --
    def get(self, audit_id: str, *, with_actions: bool = True) -> AuditRecord:
        return queries.get_record(self.engine, audit_id, with_actions=with_actions)

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
        conds = queries.filters(actor=actor, kind=kind, since=since, until=until, verdict=verdict,
                                customer_ref=customer_ref)
        return queries.query_records(self.engine, conds, limit, offset)

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest row: note it somewhere else to anchor the chain."""
        return chain.read_head(self.engine)

    def iter_rows(self, batch: int = 500, **filters: Any) -> Iterator[dict[str, Any]]:
        """All rows in chain order, streamed in batches (keyset pagination on seq)."""
        return queries.iter_rows(self.engine, queries.filters(**filters), batch)

    # -- the review queue --
    def review_queue(
        self,
        *,
        category: str | None = None,
        segment: str | None = None,
        rm: str | None = None,
        kind: str | None = None,
        verdict: str | None = None,
        decided: bool | None = None,
        since: dt.datetime | str | None = None,
        until: dt.datetime | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[reviews.ReviewItem], int]:
        """Blocked and flagged drafts and checks, newest first, each with its latest decision."""
        conds = reviews.queue_conditions(category=category, segment=segment, rm=rm, kind=kind,
                                         verdict=verdict, decided=decided, since=since, until=until)
        return reviews.review_queue(self.engine, conds, limit, offset)

    def review_item(self, audit_id: str) -> reviews.ReviewItem:
        return reviews.review_item(self.engine, self.get(audit_id, with_actions=False))

    def export_reviews(self, fh: IO[str]) -> labels.LabelExport:
        """Every decided item (latest decision) as a labelled example, one JSON line each."""
        return labels.write_examples(reviews.decided_items(self.engine), fh)

    # -- integrity --
    def verify(self, expected_head: str | None = None) -> VerifyResult:
        """Walk the chain from the genesis hash. Names the first broken sequence number: an altered
        row (hash mismatch), a deleted or reordered row (gap or broken link), or a deleted tail (the
        anchor names a later row than the last one). ``expected_head`` is a head hash noted earlier
        outside the database; the chain must still contain it."""
        head_seq, head_hash = self.head()
        return chain.verify_rows(self.iter_rows(), head_seq, head_hash, expected_head)

    # -- export --
    def export(self, fmt: Literal["csv", "jsonl"], fh: IO[str], **filters: Any) -> int:
        """Write rows in chain order to a text file handle; returns the number of rows. The hashes
        are included, so an export can be re-verified away from the database."""
        return queries.export_rows(fmt, fh, self.iter_rows(**filters))
