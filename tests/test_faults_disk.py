"""Disk full, for real: the data directory (SQLite audit database, uploads) on a tiny tmpfs that is
then filled up. Checks and uploads are refused with a clear 503 ``storage_full`` (never a 500),
nothing is half-written (no audit row, no upload left behind), the chain verifies, and once space
is freed the service works again without a restart.

Mounting a tmpfs needs root (CI and the dev machines run as root); elsewhere the test is skipped
and says why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api

from copilot.config import Settings
from copilot.store import AuditStore

DOC = """---
id: edu-disk-full
title: 网点适老化服务说明
type: education
segments: [pension]
---

# 网点适老化服务

城南支行设有爱心窗口。
"""


@contextlib.contextmanager
def tiny_tmpfs(size: str = "3m") -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="copilot-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(folder: Path) -> Path:
    """Write until the file system refuses; returns the filler file."""
    filler = folder / "filler.bin"
    block = b"\0" * 65536
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    # and the last few bytes a smaller write could still take
    with contextlib.suppress(OSError), filler.open("ab") as fh:
        while True:
            fh.write(b"\0" * 512)
            fh.flush()
    return filler


@pytest.fixture
def full_api(kb_settings: Settings) -> Iterator[tuple[Api, Path]]:
    with tiny_tmpfs() as mount:
        data = mount / "data"
        # The index stays where it is (read-only here); audit DB, secrets and uploads go on the tmpfs.
        settings = kb_settings.model_copy(update={"data_dir": data, "database_url": "", "writer": "template"})
        data.mkdir()
        os.symlink(kb_settings.index_dir, data / "index")
        with make_api(settings) as api:
            yield api, mount


def test_a_full_disk_refuses_clearly_and_loses_nothing(full_api: tuple[Api, Path]) -> None:
    api, mount = full_api
    ok = api.post("/v1/check", json={"text": "您好，周末网点正常营业。"})
    assert ok.status_code == 200
    store = AuditStore(settings=api.settings)
    rows_before = store.verify().rows

    filler = _fill(mount)
    long_text = "您好，周末网点正常营业，欢迎来办理业务。" * 200  # needs new database pages
    for _ in range(3):
        resp = api.post("/v1/check", json={"text": long_text})
        assert resp.status_code == 503, resp.text
        err = error_of(resp)
        assert err["code"] == "storage_full" and "存储空间已满" in err["message"], err
    up = api.client.post("/v1/knowledge", headers=api.auth("comp1"),
                         files={"file": ("适老化服务.md", DOC.encode("utf-8"), "text/markdown")})
    assert up.status_code == 503 and error_of(up)["code"] == "storage_full", up.text

    # nothing half-written: no new audit row, no upload (nor its temp folder) left behind
    result = store.verify()
    assert result.ok and result.rows == rows_before, result
    uploads = api.settings.data_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []

    filler.unlink()
    resp = api.post("/v1/check", json={"text": long_text})
    assert resp.status_code == 200, resp.text
    result = store.verify()
    assert result.ok and result.rows == rows_before + 1
    assert api.get(f"/v1/audit/{resp.json()['audit_id']}").json()["payload"]["text"] == long_text
