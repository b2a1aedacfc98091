"""Cross-validation by blind batch, and the rebuild of a default model of another format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from copilot.compliance import check
from copilot.compliance.classifier import FORMAT_VERSION, META_FILE, WEIGHTS_FILE, load_model
from copilot.compliance.combiner import model_directory
from copilot.compliance.crossval import cross_validate, derived_from, recorded_batches, render
from copilot.compliance.training import Example
from copilot.config import CHECKOUT, Settings

RULES = CHECKOUT / "guardrails"
COMP = CHECKOUT / "eval" / "compliance"


def example(origin: str, source: str = "") -> Example:
    return Example("这款理财保本", {"guarantee": 1}, False, "g", origin, source)


def test_a_batch_and_its_paraphrases_are_left_out_of_its_fold() -> None:
    assert derived_from(example("batch-02"), "batch-02")
    assert derived_from(example("paraphrases-02", "b02-013"), "batch-02")
    assert derived_from(example("paraphrases", "batch-02"), "batch-02")
    assert not derived_from(example("paraphrases-02", "b03-013"), "batch-02")
    assert not derived_from(example("paraphrases-02", "category:guarantee"), "batch-02")
    assert not derived_from(example("batch-03"), "batch-02")


def small_eval(tmp_path: Path) -> Path:
    """messages cut to a quarter, batch-01 cut to 16 messages and on record, a batch-09 not on record
    (it must never be read), and two paraphrases: one of batch-01, one of a category."""
    comp = tmp_path / "eval" / "compliance"
    (comp / "blind").mkdir(parents=True)
    lines = (COMP / "messages.jsonl").read_text("utf-8").splitlines()
    (comp / "messages.jsonl").write_text("\n".join(lines[::4]) + "\n", "utf-8")
    batch = (COMP / "blind" / "batch-01.jsonl").read_text("utf-8").splitlines()
    (comp / "blind" / "batch-01.jsonl").write_text("\n".join(batch[::4]) + "\n", "utf-8")
    (comp / "blind" / "batch-09.jsonl").write_text("not json, and never to be opened\n", "utf-8")
    record = yaml.safe_load((COMP / "blind" / "first_seen.yaml").read_text("utf-8"))
    record["batches"] = [b for b in record["batches"] if b["batch"] == "batch-01"]
    (comp / "blind" / "first_seen.yaml").write_text(yaml.safe_dump(record, allow_unicode=True), "utf-8")
    base = {"channel": "one_to_one", "direction": "outbound", "expected_verdict": "block", "categories": ["guarantee"]}
    rows = [
        {**base, "id": "p-1", "text": "阿姨，这款到期只会多不会少。", "source": "b01-001"},
        {**base, "id": "p-2", "text": "这款本钱动不了一根毫毛。", "source": "category:guarantee"},
    ]
    (comp / "paraphrases.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return tmp_path / "eval"


def test_cross_validate_scores_each_recorded_batch_without_it(tmp_path: Path) -> None:
    eval_dir = small_eval(tmp_path)
    assert [p.stem for p in recorded_batches(eval_dir)] == ["batch-01"]  # batch-09 is not on record
    results = cross_validate(eval_dir, RULES, seed=5)
    assert [r.batch for r in results] == ["batch-01"]
    fold = results[0]
    assert fold.messages == 16 and fold.combined.messages == 16 and fold.rules.messages == 16
    assert fold.left_out_examples >= 17  # the batch's sentences and the paraphrase of b01-001
    for scores in (fold.combined, fold.rules):
        assert 0.0 <= scores.violation_recall <= 1.0 and 0.0 <= scores.fpr_compliant <= 1.0
    table = render(results)
    assert "batch-01" in table and "平均" in table


@pytest.fixture(scope="module")
def real_model() -> Path:
    """The data directory's model (built there on first use if missing), before any patching."""
    return model_directory(None)


def test_a_default_model_of_another_format_is_rebuilt_on_first_use(
    real_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "data" / "compliance"
    directory.mkdir(parents=True)
    for name in (WEIGHTS_FILE, META_FILE):
        shutil.copy(real_model / name, directory / name)
    meta = json.loads((directory / META_FILE).read_text("utf-8"))
    meta["format"] = FORMAT_VERSION - 1  # an old model left in the data directory
    (directory / META_FILE).write_text(json.dumps(meta), "utf-8")
    built: list[Path] = []

    def fake_train(eval_dir: Path, rules_dir: Path, out: Path, **_: object) -> Path:
        built.append(out)  # stands in for the 20 s training: the current model's files
        for name in (WEIGHTS_FILE, META_FILE):
            shutil.copy(real_model / name, out / name)
        return out / WEIGHTS_FILE

    monkeypatch.setattr("copilot.config.get_settings", lambda: Settings(data_dir=tmp_path / "data"))
    monkeypatch.setattr("copilot.compliance.training.train_and_save", fake_train)
    assert check("周末网点正常营业，欢迎来办理业务。").verdict == "pass"
    assert built == [directory]
    assert load_model(directory).meta["format"] == FORMAT_VERSION
    assert check("这款理财保本保息，您放心。理财非存款、产品有风险、投资须谨慎。").verdict == "block"
    assert built == [directory]  # built once


def test_a_model_of_another_format_given_explicitly_blocks(real_model: Path, tmp_path: Path) -> None:
    for name in (WEIGHTS_FILE, META_FILE):
        shutil.copy(real_model / name, tmp_path / name)
    meta = json.loads((tmp_path / META_FILE).read_text("utf-8"))
    meta["format"] = FORMAT_VERSION - 1
    (tmp_path / META_FILE).write_text(json.dumps(meta), "utf-8")
    v = check("周末网点正常营业，欢迎来办理业务。", model_dir=tmp_path)
    assert v.verdict == "block" and "格式" in v.findings[0].message
