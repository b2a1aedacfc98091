"""A fake OpenAI-compatible chat server on 127.0.0.1, speaking the real HTTP protocol.

It stands in for a bank's own model server (vLLM, Xinference, Ollama …). Tests script its replies
and its failure modes, and read back what it received (to prove, for example, that a phone number
never reached the model).

Modes:
  normal  answer (JSON or SSE stream, as asked)
  die     stream a few chunks, then drop the connection without finishing the chunked body
  slow    wait ``delay_s`` before answering (for client timeouts)
  error   HTTP 500 with an OpenAI-style error body
  garbage HTTP 200 whose body is not a chat completion
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["normal", "die", "slow", "error", "garbage"]


@dataclass
class FakeState:
    mode: Mode = "normal"
    replies: deque[str] = field(default_factory=deque)  # consumed one per request
    default_reply: str = "您好，收到您的消息，我帮您看一下[1]。"
    delay_s: float = 3.0
    die_after_chunks: int = 3
    chunk_chars: int = 4
    requests: list[dict[str, Any]] = field(default_factory=list)

    def next_reply(self) -> str:
        return self.replies.popleft() if self.replies else self.default_reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer: a dropped stream is a protocol error
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        return

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "invalid json", "type": "invalid_request_error"}})
            return
        state.requests.append(body)
        mode = state.mode
        if mode == "error":
            self._json(500, {"error": {"message": "internal error", "type": "server_error", "code": 500}})
            return
        reply: str | None = None
        if mode == "slow":
            # Take the reply before sleeping: the client has timed out by the time it wakes, and
            # a reply taken then would be one the next test scripted (a flake under load).
            reply = state.next_reply()
            time.sleep(state.delay_s)
        if mode == "garbage":
            payload = b"<html>502 Bad Gateway</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if reply is None:
            reply = state.next_reply()
        model = body.get("model", "fake-model")
        if body.get("stream"):
            self._stream(reply, model, die=(mode == "die"), include_usage=bool(body.get("stream_options")))
        else:
            self._json(200, _completion(reply, model))

    # --- responses -------------------------------------------------------------------------
    def _json(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, obj: dict[str, Any] | str) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
        self._chunk(f"data: {text}\n\n".encode())

    def _stream(self, reply: str, model: str, die: bool, include_usage: bool) -> None:
        state = self.server.state
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cid = f"chatcmpl-fake-{len(state.requests)}"
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        pieces = [reply[i : i + state.chunk_chars] for i in range(0, len(reply), state.chunk_chars)]
        for n, piece in enumerate(pieces):
            if die and n >= state.die_after_chunks:
                # Drop the TCP connection mid-body, like a model server that crashed.
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self._event(
                {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            )
        self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if include_usage:
            usage = {
                "prompt_tokens": 100,
                "completion_tokens": len(pieces),
                "total_tokens": 100 + len(pieces),
            }
            self._event({**base, "choices": [], "usage": usage})
        self._event("[DONE]")
        self._chunk(b"")


def _completion(reply: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": len(reply), "total_tokens": 100 + len(reply)},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) closes the socket under a slow answer: expected here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FakeOpenAIServer:
    """``with FakeOpenAIServer() as srv: srv.base_url`` -> "http://127.0.0.1:PORT/v1"."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.state = self.state
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting ---------------------------------------------------------------------------
    def reset(self, mode: Mode = "normal", replies: list[str] | None = None) -> None:
        self.state.mode = mode
        self.state.replies = deque(replies or [])
        self.state.requests.clear()
