"""Database engines (one per URL), the SQLite folder, and the one-transaction scope appends use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


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


class TransactionScope:
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


def write_lock(engine: Engine) -> TransactionScope:
    """A transaction that holds the database's write lock from its first statement on SQLite
    (``BEGIN IMMEDIATE``); on PostgreSQL the caller locks the anchor row with FOR UPDATE."""
    conn = engine.connect()
    if engine.dialect.name != "postgresql":
        conn = conn.execution_options(sqlite_immediate=True)
    return TransactionScope(conn)
