"""The model server process killed (SIGKILL) in the middle of a streamed draft.

The embedded model runs inside the service process (xllamacpp), so the process killed here is a
model server of its own: the fake OpenAI-compatible server from tests/fakes, started as a child
process on loopback and streaming slowly. The draft falls back to the template writer and says
why, exactly one final (checked) draft arrives and is audited once, the queue place is given
back, and later drafts, with the model still dead, fall back at once instead of failing.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import *  # noqa: F403
from ops_support import Served, fake_model_process, serve_app

from copilot.config import Settings

REPLY = "阿姨您好，这款养老理财不保本，业绩比较基准不是收益承诺[1]。理财非存款、产品有风险、投资须谨慎。" * 3
BODY = {"message": "这个养老理财保本吗？", "customer": {"segment": "pension", "risk_level": "C2", "age_band": "60+"}}


@pytest.fixture
def model_and_app(api_settings: Settings) -> Iterator[tuple[Served, Any]]:
    with fake_model_process(REPLY) as (base_url, proc):
        settings = api_settings.model_copy(
            update={"llm_base_url": base_url, "llm_model": "fake-model", "writer": "openai", "llm_timeout_s": 20}
        )
        with serve_app(settings) as app:
            yield app, proc


def _stream(client: httpx.Client, on_token: Any = None) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("POST", "/v1/drafts/stream", json=BODY) as resp:
        assert resp.status_code == 200, resp.read()
        event = "message"
        for line in resp.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
                if event == "token" and on_token is not None:
                    on_token(len([e for e in events if e[0] == "token"]))
    return events


def test_the_model_server_killed_mid_stream(model_and_app: tuple[Served, Any], tmp_path: Path) -> None:
    served, proc = model_and_app
    killed_at: list[float] = []

    def kill_after_some_tokens(n: int) -> None:
        if n == 3 and not killed_at:
            os.kill(proc.pid, signal.SIGKILL)  # the real thing: no clean close, no final chunk
            proc.wait(timeout=10)
            killed_at.append(time.monotonic())

    with served.client("rm1", timeout=120) as client:
        events = _stream(client, kill_after_some_tokens)
        assert killed_at, "the model was not killed mid-stream"
        kinds = [k for k, _ in events]
        assert kinds.count("token") >= 3
        assert "fallback" in kinds and kinds.index("fallback") < kinds.index("final")
        assert kinds.count("final") == 1 and kinds[-1] == "final"
        final = events[-1][1]
        assert final["writer"] == "template" and final["fallback_reason"]
        assert final["verdict"] in ("pass", "revise") and final["sendable"] is True
        assert "理财非存款" in final["draft"]
        assert served.services.gate.stats()["active"] == 0 and served.services.gate.stats()["waiting"] == 0

        # the draft is audited once, as the template draft it became
        rec = client.get(f"/v1/audit/{final['audit_id']}").json()
        assert rec["payload"]["writer"] == "template" and rec["payload"]["fallback_reason"]
        assert client.get("/v1/audit", params={"kind": "draft"}).json()["total"] == 1

        # the model stays dead: the next drafts fall back at once, JSON and stream alike
        t0 = time.monotonic()
        d = client.post("/v1/drafts", json=BODY)
        assert d.status_code == 200 and d.json()["writer"] == "template" and d.json()["sendable"] is True
        events = _stream(client)
        assert events[-1][0] == "final" and events[-1][1]["writer"] == "template"
        assert time.monotonic() - t0 < 60
        assert client.get("/v1/audit", params={"kind": "draft"}).json()["total"] == 3
