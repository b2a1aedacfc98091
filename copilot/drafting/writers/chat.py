"""Chat-model writers over the OpenAI protocol: a configured endpoint, or the embedded model.

Both go through the same ``ChatOpenAI`` client; the local kind first makes sure the embedded
llama.cpp server is up and takes the single generation slot, so concurrent callers queue.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import httpx
import openai

from copilot.config import Settings
from copilot.drafting.local_model import LocalModelError
from copilot.drafting.writers.base import GenerationStats, WriterError
from copilot.text import SENTENCE_ENDS

if TYPE_CHECKING:
    from copilot.drafting.attempts import Attempt
    from copilot.drafting.brief import Brief

# A 1.5B model drifts with length and temperature: keep it short and nearly greedy, and seed it
# so the same request gives the same draft (servers that ignore the seed are still fine).
TEMPERATURE = 0.2
SEED = 7
RETRY_TEMPERATURE_STEP = 0.4
MAX_TOKENS = 220
CHARS_PER_TOKEN = 1.4  # measured on this model's drafts: 1.33-1.53 Chinese characters a token
LOCAL_SLACK_TOKENS = 12
_SENTENCE_END = re.compile(rf"[{SENTENCE_ENDS}](?:\[\d{{1,2}}\])*")  # a citation marker stays with its sentence


def _last_sentence_end(text: str) -> int:
    """The index just past the last sentence end in ``text`` (0 if none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


def output_chars(brief: Brief, settings: Settings, local: bool = False) -> int:
    """How much a model writes before it is stopped at the next sentence end: the persona's limit,
    capped per channel (``settings.model_output_chars``; ``local_model_output_chars`` for the
    embedded model, whose draft opens with the facts and which decodes ~18 characters/s here)."""
    caps = settings.local_model_output_chars if local else settings.model_output_chars
    cap = caps.get(brief.channel, brief.persona.max_chars)
    return max(20, min(brief.persona.max_chars, cap))


def _reason(exc: BaseException, base_url: str, timeout_s: float) -> str:
    """A Chinese reason for the RM, from whatever the client raised."""
    if isinstance(exc, WriterError):
        return exc.reason
    if isinstance(exc, LocalModelError):  # already Chinese
        return str(exc)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return f"模型服务响应超时（超过 {timeout_s:.0f} 秒）"
    if isinstance(exc, openai.APIStatusError):
        return f"模型服务返回错误（HTTP {exc.status_code}）"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, httpx.RemoteProtocolError) or "incomplete" in str(cause or "").lower():
            return "模型输出中途中断（连接被断开）"
        return f"无法连接模型服务（{base_url}）"
    if isinstance(exc, ValueError):  # JSON decode errors, "No generation chunks were returned"
        return "模型服务返回了无法识别的内容"
    return f"模型调用失败（{type(exc).__name__}）"


class ChatWriter:
    """Streams a chat completion. ``name`` is "openai" or "local"."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
    ):
        self.name = name
        self.settings = settings
        self._base_url = base_url
        self.model = model or settings.llm_model
        self._api_key = api_key

    # --- hooks the local kind overrides ----------------------------------------------------
    def _endpoint(self) -> tuple[str, str]:
        base = self._base_url or self.settings.llm_base_url
        if not base:
            raise WriterError("未配置模型服务地址（COPILOT_LLM_BASE_URL）")
        key = self._api_key if self._api_key is not None else self.settings.llm_api_key.get_secret_value()
        return base, key or "not-needed"  # many private servers accept any key

    def _turn(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def _extra_body(self, brief: Brief) -> dict[str, Any] | None:
        return None

    # --- the one client path -----------------------------------------------------------------
    def _client(
        self, base_url: str, api_key: str, max_tokens: int, attempt: int, extra_body: dict[str, Any] | None = None
    ) -> Any:
        from langchain_openai import ChatOpenAI

        # A rewrite with the same seed and near-greedy sampling repeats the blocked draft.
        return ChatOpenAI(
            base_url=base_url,
            api_key=api_key,
            model=self.model,
            temperature=TEMPERATURE + RETRY_TEMPERATURE_STEP * attempt,
            seed=SEED + attempt,
            max_tokens=max_tokens,
            timeout=self.settings.llm_timeout_s,
            max_retries=0,  # the fallback writer is our retry; a hung server must not cost 3x
            streaming=True,
            stream_usage=True,
            extra_body=extra_body,
        )

    def write(self, brief: Brief, attempt: Attempt, stats: GenerationStats) -> Iterator[str]:
        from copilot.drafting.prompting import render_messages

        base_url = self._base_url or self.settings.llm_base_url
        pieces = 0
        try:
            base_url, api_key = self._endpoint()
            messages = render_messages(brief, attempt, self.settings)
            with self._turn():
                local = self.name == "local"
                chars = output_chars(brief, self.settings, local=local)
                # the hard limit leaves room to finish the sentence under way at the soft one
                # (less for the embedded model: each token costs the RM ~90 ms)
                budget = min(MAX_TOKENS, int(chars / CHARS_PER_TOKEN) + (LOCAL_SLACK_TOKENS if local else 30))
                llm = self._client(base_url, api_key, budget, attempt.rewrite, self._extra_body(brief))
                t0 = time.perf_counter()
                finished = False
                written = 0
                chunks = llm.stream(messages)
                for chunk in chunks:
                    text = chunk.content if isinstance(chunk.content, str) else ""
                    if chunk.response_metadata.get("finish_reason"):
                        finished = True
                    if chunk.usage_metadata:
                        stats.prompt_tokens = int(chunk.usage_metadata.get("input_tokens", 0))
                        stats.completion_tokens = int(chunk.usage_metadata.get("output_tokens", 0))
                    if text:
                        if not pieces:
                            stats.first_token_s = time.perf_counter() - t0
                        pieces += 1
                        written += len(text)
                        end = _last_sentence_end(text) if written >= chars else 0
                        yield text[:end] if end else text
                        if end:
                            # Enough for this channel and a sentence just ended: stop here. Closing
                            # the stream stops generation (llama.cpp, vLLM), so the RM does not wait
                            # for sentences the length fitting would drop anyway.
                            finished = True
                            chunks.close()
                            break
                stats.generate_s = time.perf_counter() - t0
                if not finished:
                    # A stream that just stops, without a finish reason, is a crashed server.
                    raise WriterError("模型输出中途中断（未收到结束标记）")
                if not stats.completion_tokens:
                    stats.completion_tokens = pieces
        except GeneratorExit:
            raise
        except Exception as exc:
            reason = _reason(exc, base_url, self.settings.llm_timeout_s)
            if pieces and not isinstance(exc, WriterError) and "超时" not in reason:
                reason = f"模型输出中途中断（{reason}）"  # it answered, then the stream broke
            raise WriterError(reason) from exc


class LocalChatWriter(ChatWriter):
    """The embedded model, served by xllamacpp on 127.0.0.1 and driven like any endpoint."""

    def __init__(self, settings: Settings):
        from copilot.drafting.local_model import MODEL_ALIAS

        super().__init__("local", settings, model=MODEL_ALIAS)

    def _endpoint(self) -> tuple[str, str]:
        from copilot.drafting.local_model import local_server

        try:
            return local_server(self.settings).base_url, "local"
        except LocalModelError as exc:
            raise WriterError(str(exc)) from exc

    def _turn(self) -> AbstractContextManager[Any]:
        from copilot.drafting.local_model import generation_turn

        return generation_turn(self.settings)

    def _extra_body(self, brief: Brief) -> dict[str, Any] | None:
        from copilot.drafting.local_model import slot_for

        return {"id_slot": slot_for(brief.segment, self.settings)}  # its segment's prompt is cached there
