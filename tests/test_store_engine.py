"""Engines and the write transaction (copilot/store/engine.py)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from copilot.store.engine import ensure_sqlite_dir, make_engine, write_lock


def test_one_engine_per_url_and_the_sqlite_folder_is_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'audit.db'}"
    ensure_sqlite_dir(url)
    assert (tmp_path / "deep" / "er").is_dir()
    assert make_engine(url) is make_engine(url)
    ensure_sqlite_dir("sqlite:///:memory:")  # nothing to create, no error


def test_sqlite_runs_in_wal_mode_and_the_write_lock_commits_or_rolls_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    with write_lock(engine) as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    try:
        with write_lock(engine) as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(sa.text("SELECT x FROM t"))] == [1]
