"""Bounded concurrency in front of the model writers: a queue, not a crash; 503 with Retry-After
beyond it; 429 for one RM holding too many places; places always given back."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api, sse_events
from fakes.openai_server import FakeOpenAIServer

from copilot.api.errors import ApiError
from copilot.api.gate import ModelGate

BODY = {"message": "大额存单多少钱起存？", "customer": {"segment": "payroll", "risk_level": "C3"}}


# --- the gate on its own -----------------------------------------------------------------------


def test_gate_admits_queues_in_order_and_refuses_beyond_the_queue() -> None:
    async def scenario() -> None:
        gate = ModelGate(concurrency=1, queue_size=2, per_user=5)
        order: list[str] = []

        async def job(user: str, hold: asyncio.Event) -> None:
            async with gate.slot(user):
                order.append(user)
                await hold.wait()

        holds = {u: asyncio.Event() for u in "abc"}
        tasks = [asyncio.create_task(job(u, holds[u])) for u in "abc"]
        await asyncio.sleep(0.01)
        assert gate.stats() == {"active": 1, "waiting": 2, "concurrency": 1, "queue_size": 2}
        with pytest.raises(ApiError) as exc:
            gate.enter("d")
        assert exc.value.status == 503 and exc.value.headers["Retry-After"]
        for u in "abc":
            holds[u].set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        assert order == ["a", "b", "c"]
        assert gate.stats()["active"] == gate.stats()["waiting"] == 0

    asyncio.run(scenario())


def test_gate_limits_places_per_user_and_gives_them_back_on_cancel() -> None:
    async def scenario() -> None:
        gate = ModelGate(concurrency=1, queue_size=8, per_user=2)
        first = gate.enter("rm1")
        await gate.wait(first)
        second = gate.enter("rm1")
        with pytest.raises(ApiError) as exc:
            gate.enter("rm1")
        assert exc.value.status == 429
        waiter = asyncio.create_task(gate.wait(second))
        await asyncio.sleep(0.01)
        waiter.cancel()  # the client went away while queued
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert gate.waiting == 0
        gate.leave(first)
        gate.leave(first)  # idempotent
        third = gate.enter("rm1")
        await gate.wait(third)
        assert gate.active == 1
        gate.leave(third)
        assert gate.stats()["active"] == 0

    asyncio.run(scenario())


def test_a_place_waited_for_too_long_is_a_503() -> None:
    async def scenario() -> None:
        gate = ModelGate(concurrency=1, queue_size=1, max_wait_s=0.05)
        holder = gate.enter("a")
        await gate.wait(holder)
        late = gate.enter("b")
        with pytest.raises(ApiError) as exc:
            await gate.wait(late)
        assert exc.value.status == 503 and gate.waiting == 0

    asyncio.run(scenario())


# --- through the app ---------------------------------------------------------------------------


@pytest.fixture
def model_settings(api_settings):  # type: ignore[no-untyped-def]
    """A model writer (a local server speaking the OpenAI protocol): only model drafts queue."""
    with FakeOpenAIServer() as srv:
        yield api_settings.model_copy(
            update={"llm_base_url": srv.base_url, "llm_model": "fake-model", "writer": "openai"}
        )


def _hold(api: Api, user: str = "someone") -> list[Any]:
    """Occupy every running place of the model (one per user, as the gate allows), in the app's
    own event loop."""
    gate = api.services.gate
    tickets = []
    for i in range(gate.concurrency):
        tickets.append(gate.enter(f"{user}-{i}" if i else user))
        api.client.portal.call(gate.wait, tickets[-1])
    return tickets


def _release(api: Api, tickets: list[Any]) -> None:
    for ticket in tickets:
        api.client.portal.call(api.services.gate.leave, ticket)


def _wait_until(cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_full_queue_is_a_503_with_retry_advice(model_settings) -> None:  # type: ignore[no-untyped-def]
    with make_api(model_settings.model_copy(update={"model_queue_size": 0})) as api:
        held = _hold(api)
        plan = {"segment": "pension", "start": "2026-12-01", "weeks": 1, "writer": "openai"}
        for path in ("/v1/drafts", "/v1/drafts/stream", "/v1/schedules"):
            body = BODY if "drafts" in path else plan
            resp = api.post(path, json=body)
            assert resp.status_code == 503, path
            err = error_of(resp)
            assert err["code"] == "model_busy" and "重试" in err["message"]
            assert int(resp.headers["retry-after"]) > 0
        # checks and searches do not queue behind the model
        assert api.post("/v1/check", json={"text": "您好"}).status_code == 200
        _release(api, held)
        assert api.post("/v1/drafts", json=BODY).status_code == 200


def test_extra_requests_wait_their_turn(model_settings) -> None:  # type: ignore[no-untyped-def]
    with make_api(model_settings.model_copy(update={"model_queue_size": 1})) as api:
        gate = api.services.gate
        held = _hold(api)
        results: dict[str, Any] = {}

        def stream() -> None:
            with api.client.stream("POST", "/v1/drafts/stream", json=BODY, headers=api.auth("rm1")) as resp:
                results["status"] = resp.status_code
                results["events"] = sse_events(resp)

        t = threading.Thread(target=stream)
        t.start()
        _wait_until(lambda: gate.waiting == 1)
        # the queue (one place) is taken: the next caller is told to come back
        assert api.post("/v1/drafts", as_user="rm2", json=BODY).status_code == 503
        _release(api, held)
        t.join(timeout=120)
        assert results["status"] == 200
        kinds = [k for k, _ in results["events"]]
        assert kinds[0] == "queued" and results["events"][0][1]["position"] == 1
        assert kinds[-1] == "final" and results["events"][-1][1]["sendable"] is True
        assert gate.stats()["active"] == gate.stats()["waiting"] == 0


def test_one_rm_cannot_fill_the_queue(model_settings) -> None:  # type: ignore[no-untyped-def]
    with make_api(model_settings) as api:
        gate = api.services.gate
        held = [gate.enter("rm1"), gate.enter("rm1")]  # the RM's two places (running or waiting)
        resp = api.post("/v1/drafts", as_user="rm1", json=BODY)
        assert resp.status_code == 429 and error_of(resp)["code"] == "too_many_requests"
        _release(api, held)
        assert api.post("/v1/drafts", as_user="rm1", json=BODY).status_code == 200


def test_template_drafts_never_queue_behind_the_model(model_settings) -> None:  # type: ignore[no-untyped-def]
    """The model's place and its whole queue are taken; template drafts and plans still answer."""
    with make_api(model_settings.model_copy(update={"model_queue_size": 0})) as api:
        held = _hold(api)
        assert api.post("/v1/drafts", json=BODY).status_code == 503  # the model writer queues
        template = {**BODY, "writer": "template"}
        resp = api.post("/v1/drafts", json=template)
        assert resp.status_code == 200 and resp.json()["writer"] == "template"
        with api.client.stream("POST", "/v1/drafts/stream", json=template, headers=api.auth("rm1")) as r:
            kinds = [k for k, _ in sse_events(r)]
        assert "queued" not in kinds and kinds[-1] == "final"
        plan = {"segment": "pension", "start": "2026-12-01", "weeks": 1}
        assert api.post("/v1/schedules", json=plan).status_code == 200
        assert api.services.gate.stats()["active"] == len(held) and api.services.gate.waiting == 0
        _release(api, held)
