"""A corrupt or unreadable rule pack on disk, under a running service: every check (and every
draft) blocks with ``internal-error`` — even a harmless text — until the file is fixed, and then
the service recovers without a restart (the checker re-reads rule files every few seconds)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_support import *  # noqa: F403
from api_support import Api, make_api

from copilot.compliance.checker import RECHECK_FILES_EVERY_S
from copilot.config import Settings

HARMLESS = "您好，周末网点正常营业，欢迎来办理业务。"
GUARANTEE = "这款理财保本保息，稳赚不赔"
DRAFT = {"message": "大额存单多少钱起存？", "customer": {"segment": "payroll", "risk_level": "C3"}}


@pytest.fixture
def api(content_copy: Settings) -> Iterator[Api]:
    with make_api(content_copy) as a:
        yield a


def _verdict(api: Api, text: str) -> dict:
    resp = api.post("/v1/check", json={"text": text})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _wait_for(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RECHECK_FILES_EVERY_S * 4 + 5
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def _blocked_by_internal_error(body: dict) -> bool:
    return body["verdict"] == "block" and any(f["rule"] == "internal-error" for f in body["findings"])


def _bad_yaml(path: Path) -> None:
    path.write_text("rules: {oops: [", encoding="utf-8")


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"\xff\xfe\x00rules:\x80\x81\n")


def _dangling_link(path: Path) -> None:
    # The name is there, the content cannot be read (root reads any mode, so not chmod 000).
    path.unlink()
    os.symlink(path.parent / "gone" / path.name, path)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])


DAMAGES = {"bad YAML": _bad_yaml, "not UTF-8": _not_utf8, "unreadable": _dangling_link, "truncated": _truncated}


def test_a_broken_rule_pack_blocks_every_check_until_fixed(api: Api) -> None:
    pack = api.settings.guardrails_dir / "guarantee.yaml"
    good = pack.read_bytes()
    assert _verdict(api, HARMLESS)["verdict"] == "pass"
    for name, damage in DAMAGES.items():
        damage(pack)
        _wait_for(lambda: _blocked_by_internal_error(_verdict(api, HARMLESS)), f"{name}: not noticed")
        for text in (HARMLESS, GUARANTEE):
            body = _verdict(api, text)
            assert _blocked_by_internal_error(body) and body["sendable"] is False, name
        draft = api.post("/v1/drafts", json=DRAFT).json()
        assert draft["verdict"] == "block" and draft["sendable"] is False, name
        # what was refused is on record as blocked
        rows = api.get("/v1/audit", params={"kind": "check", "limit": 2}).json()["items"]
        assert {r["verdict"] for r in rows} == {"block"}, name

        pack.unlink()
        pack.write_bytes(good)
        _wait_for(lambda: _verdict(api, HARMLESS)["verdict"] == "pass", f"{name}: did not recover")
        body = _verdict(api, GUARANTEE)
        assert body["verdict"] == "block" and not _blocked_by_internal_error(body), name  # a real finding again
    assert api.post("/v1/drafts", json=DRAFT).json()["sendable"] is True


def test_a_missing_rule_pack_folder_blocks_every_check(api: Api) -> None:
    folder = api.settings.guardrails_dir
    moved = folder.with_name("guardrails-away")
    assert _verdict(api, HARMLESS)["verdict"] == "pass"
    shutil.move(folder, moved)
    try:
        _wait_for(lambda: _blocked_by_internal_error(_verdict(api, HARMLESS)), "a missing folder was not noticed")
    finally:
        shutil.move(moved, folder)
    _wait_for(lambda: _verdict(api, HARMLESS)["verdict"] == "pass", "the service did not recover")
