"""``POST /v1/drafts`` (JSON) and ``POST /v1/drafts/stream`` (server-sent events).

The drafting pipeline is synchronous (retrieval, a model, the guardrail), so it runs in the thread
pool. Drafts that run a model (the local or a configured writer) queue behind the model gate: a
bounded queue, 503 with Retry-After beyond it. Template drafts take no model place, so they never
wait behind a model draft. Every draft is
recorded in the audit trail with the RM as actor and the response carries its ``audit_id``.

The stream sends ``queued`` (only when waiting), ``token`` events while the writer writes,
``retry`` (a rewrite after compliance findings) or ``fallback`` (another writer took over) when the
text starts over, then exactly one ``final`` event with the checked draft. Only the final draft
can be sendable: tokens are raw model output, unchecked. If the pipeline fails, an ``error`` event
says why and the final event is a blocked, unsendable draft (fail closed).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from copilot.api.check import blocked_by_error, checked
from copilot.api.deps import CurrentUser, Services, ServicesDep
from copilot.api.errors import ApiError, error_body
from copilot.api.gate import Ticket, model_place
from copilot.auth import User
from copilot.config import Settings
from copilot.domain import CheckContext, Draft, RMProfile
from copilot.drafting.events import Event, Fallback, Final, Retry, Token, event_name
from copilot.drafting.request import DraftRequest

router = APIRouter(prefix="/drafts", tags=["回复起草"])
log = logging.getLogger("copilot.api")

class DraftIn(DraftRequest):
    """The drafting request (message, customer, history, products, channel: one definition, with
    its limits and checks) plus what only the service knows: the writer asked for and the WeCom id."""

    rm: RMProfile | None = Field(None, description="客户经理资料（人设）；缺省时用登录用户的姓名")
    writer: Literal["auto", "openai", "local", "template"] | None = Field(
        None, description="指定写作方式；缺省按服务配置"
    )
    external_userid: str | None = Field(
        None, max_length=128, description="企业微信外部联系人 ID（只以假名存入审计）"
    )

    def context(self) -> CheckContext:
        return CheckContext(
            segment=self.customer.segment,
            customer_risk=self.customer.risk_level,
            product_codes=self.product_codes,
            channel=self.channel,
            direction="outbound",
        )


def _rm_profile(body: DraftIn, user: User, svc: Services) -> RMProfile:
    """The RM profile as the client sent it, else the deployment's profile under the RM's own name."""
    if body.rm is not None:
        return body.rm
    from copilot.drafting.personas import load_rm_profile

    return load_rm_profile(svc.settings).model_copy(update={"name": user.name})


def unavailable(exc: Exception) -> ApiError:
    """DraftingUnavailable (an empty knowledge index) as a 503 that tells the operator what to run."""
    return ApiError(
        503,
        getattr(exc, "code", "index_empty"),
        getattr(exc, "public", "") or str(exc),
        None,
        headers={"Retry-After": "60"},
    )


async def draft_request(body: DraftIn, user: CurrentUser, svc: ServicesDep) -> Any:
    """The pipeline's request, validated before any response starts (so bad input is a 422 and
    an empty knowledge index a 503 even for the stream)."""
    from copilot.drafting import DraftingInputError, DraftingUnavailable, ensure_ready
    from copilot.drafting.facts import product_facts

    try:
        await run_in_threadpool(ensure_ready, svc.settings)
    except DraftingUnavailable as exc:
        raise unavailable(exc) from exc

    unknown = [c for c in body.product_codes if product_facts(c, svc.settings) is None]
    if unknown:
        raise ApiError(
            422,
            "unknown_product",
            f"未知产品代码：{'、'.join(unknown)}（产品库中没有这个产品）。",
            {"product_codes": unknown},
        )
    try:
        rm = await run_in_threadpool(_rm_profile, body, user, svc)
        return DraftRequest.model_validate(body.model_dump(include=set(DraftRequest.model_fields)) | {"rm": rm})
    except (DraftingInputError, ValueError) as exc:
        raise ApiError(422, "invalid_input", str(exc)) from exc


DraftRequestDep = Annotated[Any, Depends(draft_request)]


def _finalise(draft: Draft, body: DraftIn, settings: Settings) -> Draft:
    """The service's own last look before a draft may be sent (defence in depth, ~10 ms): the final
    text is checked once more under this app's rule packs, and a block from either check wins."""
    if draft.draft.strip() and draft.verdict != "block":
        again = checked(draft.draft, body.context(), settings)
        if again.verdict == "block":
            seen = {(f.rule, f.start, f.end) for f in draft.findings}
            extra = [f for f in again.findings if (f.rule, f.start, f.end) not in seen]
            draft = draft.model_copy(update={"verdict": "block", "findings": [*draft.findings, *extra]})
    draft.sendable = bool(draft.sendable) and draft.verdict != "block" and bool(draft.draft.strip())
    return draft


def _failed_draft(writer: str) -> Draft:
    v = blocked_by_error("起草流程出错")
    return Draft(
        draft="",
        verdict="block",
        findings=v.findings,
        writer=writer,
        sendable=False,
        fallback_reason="起草流程出错，本条草稿未通过合规审批，不能发送。",
    )


def _audit_payload(body: DraftIn, draft: Draft) -> dict[str, Any]:
    c = body.customer
    return {
        "segment": c.segment.value,
        "external_userid": body.external_userid,
        "customer_ref": c.ref,
        "customer": {
            "risk_level": c.risk_level,
            "age_band": c.age_band,
            "tags": c.tags,
            "products_held": c.products_held,
        },
        "context": body.context().model_dump(mode="json"),
        "message": body.message,
        "history": [t.model_dump() for t in body.history],
        # Sources with their versions; the passage text itself stays in the knowledge base.
        "sources": [cit.model_dump(exclude={"text"}) for cit in draft.citations],
        "writer": draft.writer,
        "model": draft.model,
        "findings": draft.findings,
        "verdict": draft.verdict,
        "draft": draft.draft,
        "sendable": draft.sendable,
        "fallback_reason": draft.fallback_reason,
        "timings": draft.timings,
    }


async def _record(svc: Services, user: User, body: DraftIn, draft: Draft) -> Draft:
    draft.audit_id = await run_in_threadpool(
        svc.audit.record, "draft", user.userid, _audit_payload(body, draft)
    )
    return draft


def _writer_name(body: DraftIn, svc: Services) -> str | None:
    w = body.writer or svc.settings.writer
    return None if w == "auto" else w


def _needs_model(body: DraftIn, svc: Services) -> bool:
    from copilot.drafting.writers import uses_model

    return uses_model(_writer_name(body, svc), svc.settings)




@router.post("", response_model=Draft, summary="起草回复（完成后一次返回）")
async def create_draft(body: DraftIn, user: CurrentUser, svc: ServicesDep, request: DraftRequestDep) -> Draft:
    from copilot.drafting import DraftingInputError, DraftingUnavailable, draft_reply

    async with model_place(svc.gate, user.userid, _needs_model(body, svc)):
        try:
            draft = await run_in_threadpool(
                draft_reply, request, writer=_writer_name(body, svc), settings=svc.settings
            )
        except ApiError:
            raise
        except DraftingInputError as exc:
            raise ApiError(422, "invalid_input", str(exc)) from exc
        except DraftingUnavailable as exc:  # the index emptied after the request was accepted
            raise unavailable(exc) from exc
        except Exception:
            log.exception("drafting failed; answering a blocked draft")
            draft = _failed_draft(_writer_name(body, svc) or "auto")
    draft = await run_in_threadpool(_finalise, draft, body, svc.settings)
    return await _record(svc, user, body, draft)


# --- streaming ---------------------------------------------------------------------------------


async def stream_ticket(body: DraftIn, user: CurrentUser, svc: ServicesDep) -> AsyncIterator[Ticket | None]:
    """Take a queue place before the response starts (so 503/429 are real status codes) and make
    sure it is given back however the stream ends; ``None`` for a draft that runs no model."""
    if not _needs_model(body, svc):
        yield None
        return
    ticket = svc.gate.enter(user.userid)
    try:
        yield ticket
    finally:
        svc.gate.leave(ticket)


_DONE = object()


def sse(event: str, data: Any) -> ServerSentEvent:
    """One event; its JSON keeps Chinese readable on the wire (curl -N shows text, not \\u escapes)."""
    return ServerSentEvent(event=event, raw_data=json.dumps(data, ensure_ascii=False))


def _next(it: Iterator[Event]) -> Any:
    return next(it, _DONE)


@router.post(
    "/stream",
    response_class=EventSourceResponse,
    summary="起草回复（SSE 流式）",
    responses={200: {"description": "event: queued | token | fallback | final | error"}},
)
async def stream_draft(
    body: DraftIn,
    user: CurrentUser,
    svc: ServicesDep,
    request: DraftRequestDep,
    ticket: Annotated[Ticket | None, Depends(stream_ticket)],
) -> AsyncIterator[ServerSentEvent]:
    from copilot.drafting import DraftingUnavailable, stream_reply

    gate = svc.gate
    if ticket is not None:
        if gate.must_wait(ticket):
            yield sse("queued", {"position": gate.position(ticket) + 1, "message": "使用人数较多，正在排队…"})
        try:
            await gate.wait(ticket)
        except ApiError as exc:  # waited too long: tell the client in-band, the status is already 200
            yield sse("error", error_body(exc.code, exc.message, exc.detail))
            return

    started = time.perf_counter()
    events = stream_reply(request, writer=_writer_name(body, svc), settings=svc.settings)
    final: Draft | None = None
    try:
        while True:
            event = await run_in_threadpool(_next, events)
            if event is _DONE:
                break
            if isinstance(event, Token):
                yield sse("token", {"text": event.text})
            elif isinstance(event, Retry | Fallback):  # the text starts over: the client clears its preview
                yield sse(event_name(event), {"reason": event.reason})
            elif isinstance(event, Final):
                final = event.draft
    except DraftingUnavailable as exc:  # emptied after the stream started: the status is already 200
        err = unavailable(exc)
        yield sse("error", error_body(err.code, err.message, None))
    except Exception:
        log.exception("streaming draft failed; answering a blocked draft")
        yield sse(
            "error",
            error_body("draft_failed", "起草过程中出错，已停止。本条草稿不能发送，请重试。", None),
        )
    finally:
        # Closing the generator stops the model when the client went away mid-stream; shielded,
        # because on a disconnect this runs inside a cancelled scope.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(events.close)
        if ticket is not None:
            gate.leave(ticket)
    if final is None:  # the unchecked partial text is not offered as a draft
        final = _failed_draft(_writer_name(body, svc) or "auto")
    final = await run_in_threadpool(_finalise, final, body, svc.settings)
    final.timings["api_total_ms"] = round((time.perf_counter() - started) * 1000, 1)
    final = await _record(svc, user, body, final)
    yield sse("final", final.model_dump(mode="json"))
