"""The weights file: loaded only when whole and as described; anything else makes check() block."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from copilot.compliance import INTERNAL_ERROR, check
from copilot.compliance.classifier import META_FILE, WEIGHTS_FILE, ModelError, load_model
from copilot.compliance.combiner import model_directory

TEXT = "这款理财拿到期，本钱一点都不会缩水。理财非存款、产品有风险、投资须谨慎。"


@pytest.fixture(scope="module")
def good_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the data directory's model (built there on first use if missing)."""
    directory = tmp_path_factory.mktemp("model")
    for name in (WEIGHTS_FILE, META_FILE):
        shutil.copy(model_directory(None) / name, directory / name)
    return directory


def assert_fails_closed(model_dir: Path) -> None:
    v = check(TEXT, model_dir=model_dir)
    assert v.verdict == "block"
    assert v.findings[0].rule == INTERNAL_ERROR and "合规模型" in v.findings[0].message
    honest = check("周末网点正常营业，欢迎来办理业务。", model_dir=model_dir)
    assert honest.verdict == "block"  # even text that would pass: no model, no approval


def test_the_model_loads_and_scores_every_category(good_model: Path) -> None:
    model = load_model(good_model)
    scores = model.scores(["本钱一点都不会缩水", "周末网点正常营业"])
    assert scores.shape == (2, len(model.categories))
    assert ((scores >= 0) & (scores <= 1)).all()
    assert good_model.joinpath(WEIGHTS_FILE).stat().st_size < 4_000_000  # small enough to build and keep
    assert check(TEXT, model_dir=good_model).verdict in {"block", "revise"}


def test_a_missing_model_file_blocks(tmp_path: Path) -> None:
    assert_fails_closed(tmp_path / "nowhere")


def test_half_a_model_blocks(good_model: Path, tmp_path: Path) -> None:
    shutil.copy(good_model / META_FILE, tmp_path / META_FILE)  # weights missing
    assert_fails_closed(tmp_path)


def test_corrupt_weights_block(good_model: Path, tmp_path: Path) -> None:
    for name in (WEIGHTS_FILE, META_FILE):
        shutil.copy(good_model / name, tmp_path / name)
    data = bytearray((tmp_path / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="损坏"):
        load_model(tmp_path)
    assert_fails_closed(tmp_path)


def test_weights_that_are_not_an_archive_block_even_with_a_matching_hash(good_model: Path, tmp_path: Path) -> None:
    import hashlib

    (tmp_path / WEIGHTS_FILE).write_bytes(b"not a model")
    meta = json.loads((good_model / META_FILE).read_text("utf-8"))
    meta["sha256"] = hashlib.sha256(b"not a model").hexdigest()
    (tmp_path / META_FILE).write_text(json.dumps(meta), "utf-8")
    assert_fails_closed(tmp_path)


def test_a_description_that_does_not_fit_the_weights_blocks(good_model: Path, tmp_path: Path) -> None:
    for name in (WEIGHTS_FILE, META_FILE):
        shutil.copy(good_model / name, tmp_path / name)
    meta = json.loads((tmp_path / META_FILE).read_text("utf-8"))
    meta["categories"] = meta["categories"][:-1]  # one head fewer than the weights hold
    meta["thresholds"].pop(meta["categories"][-1], None)
    (tmp_path / META_FILE).write_text(json.dumps(meta), "utf-8")
    assert_fails_closed(tmp_path)
