"""The learned second opinion: a per-category sentence classifier, and its weights file.

One logistic head per category over the character n-gram features of a sentence (features.py).
The weights live in the data directory as ``compliance/model.npz`` with ``model.json`` beside it
(thresholds, seed, what it was trained on, and the SHA-256 of the weights). Loading checks that
hash and every shape; anything wrong raises ``ModelError`` and the checker blocks (fails closed).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.compliance.features import make_vectorizer

# The categories the model has an opinion on: the wording-dependent ones of what an RM sends (PII
# and the disclosure stay with the recognizers and the rules) ...
OUTBOUND_CATEGORIES: tuple[str, ...] = (
    "guarantee",
    "expected_return",
    "deposit_confusion",
    "past_performance",
    "superlative",
    "disparagement",
    "inducement",
    "regulator_endorsement",
    "suitability",
)
# ... and, for what a customer sends, attempts to instruct the assistant.
INBOUND_CATEGORIES: tuple[str, ...] = ("prompt_injection",)
MODEL_CATEGORIES: tuple[str, ...] = OUTBOUND_CATEGORIES + INBOUND_CATEGORIES
# 2: the mask-invariant featurizer (products, figures, dates as placeholders; the product names are
# in model.json). A model of another format is never used: the default one is rebuilt (combiner.py).
FORMAT_VERSION = 2
WEIGHTS_FILE = "model.npz"
META_FILE = "model.json"


class ModelError(RuntimeError):
    """The model file is missing, corrupt or does not match its description."""


@dataclass(frozen=True)
class CategoryThresholds:
    raise_at: float  # no rule hit, score at or above: a model finding (revise, "需人工复核")
    block_at: float  # ... at or above: a model finding that blocks
    clear_below: float  # a rule hit whose sentence scores below this is cleared (0: never)


@dataclass(frozen=True)
class SentenceModel:
    categories: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # (categories, features)
    intercept: np.ndarray  # (categories,)
    thresholds: dict[str, CategoryThresholds]
    meta: dict

    def __post_init__(self) -> None:
        vectorizer = make_vectorizer(self.vocabulary, tuple(self.meta.get("mask_names", ())))
        vectorizer.idf_ = self.idf
        object.__setattr__(self, "_vectorizer", vectorizer)
        object.__setattr__(self, "_coef_t", np.ascontiguousarray(self.coef.T))

    def scores(self, dense_sentences: list[str]) -> np.ndarray:
        """Probabilities, one row per sentence, one column per category."""
        if not dense_sentences:
            return np.zeros((0, len(self.categories)), dtype=np.float32)
        x = self._vectorizer.transform(dense_sentences)  # type: ignore[attr-defined]
        logits = x @ self._coef_t + self.intercept  # type: ignore[attr-defined]
        return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


def weights_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(model: SentenceModel, directory: Path) -> Path:
    """Write model.npz and model.json (deterministic bytes for the same model)."""
    directory.mkdir(parents=True, exist_ok=True)
    terms = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    weights = directory / WEIGHTS_FILE
    tmp = directory / (WEIGHTS_FILE + ".tmp")
    with tmp.open("wb") as fh:  # np.savez (not _compressed): no timestamps, same bytes every time
        np.savez(
            fh,
            terms=np.array(terms, dtype=np.str_),
            idf=model.idf.astype(np.float32),
            coef=model.coef.astype(np.float32),
            intercept=model.intercept.astype(np.float32),
        )
    tmp.replace(weights)
    meta = {
        **model.meta,
        "format": FORMAT_VERSION,
        "categories": list(model.categories),
        "thresholds": {c: vars(t) for c, t in model.thresholds.items()},
        "sha256": weights_digest(weights),
    }
    (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    return weights


def load_model(directory: Path) -> SentenceModel:
    weights, meta_path = directory / WEIGHTS_FILE, directory / META_FILE
    if not weights.is_file() or not meta_path.is_file():
        raise ModelError(f"合规模型文件不存在：{weights}（运行 copilot compliance train 生成）")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ModelError(f"合规模型格式版本不符：{meta.get('format')!r}")
        if weights_digest(weights) != meta.get("sha256"):
            raise ModelError(f"合规模型文件已损坏（SHA-256 与 {meta_path.name} 不符）：{weights}")
        with np.load(weights, allow_pickle=False) as data:
            terms, idf, coef, intercept = (data[k] for k in ("terms", "idf", "coef", "intercept"))
        categories = tuple(meta["categories"])
        thresholds = {c: CategoryThresholds(**meta["thresholds"][c]) for c in categories}
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"合规模型无法读取：{type(exc).__name__}: {exc}") from exc
    n = len(terms)
    if idf.shape != (n,) or coef.shape != (len(categories), n) or intercept.shape != (len(categories),):
        raise ModelError("合规模型的维度不一致")
    vocabulary = {str(t): i for i, t in enumerate(terms)}
    return SentenceModel(categories, vocabulary, idf, coef, intercept, thresholds, meta)


_loaded: dict[Path, tuple[tuple, SentenceModel]] = {}
_lock = threading.Lock()


def cached_model(directory: Path) -> SentenceModel:
    """The model in ``directory``, loaded once and again whenever its files change."""
    weights = directory / WEIGHTS_FILE
    try:
        stamp = (weights.stat().st_mtime_ns, weights.stat().st_size, (directory / META_FILE).stat().st_mtime_ns)
    except OSError as exc:
        raise ModelError(f"合规模型文件不存在：{weights}（运行 copilot compliance train 生成）") from exc
    hit = _loaded.get(directory)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with _lock:
        model = load_model(directory)
        _loaded[directory] = (stamp, model)
        return model
