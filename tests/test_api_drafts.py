"""POST /v1/drafts and /v1/drafts/stream through the real app, retrieval, template writer and rule
packs: cited, checked, audited drafts; SSE framing; what the RM did with a draft; fail-closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api, sse_events
from fakes.openai_server import FakeOpenAIServer

PENSION_Q = "这个养老理财保本吗？能拿到3.5%吗？"
RESIDENT_ID = "110101199003074514"


def _body(message: str = PENSION_Q, **customer: Any) -> dict[str, Any]:
    return {
        "message": message,
        "customer": {"segment": "pension", "risk_level": "C2", "age_band": "60+", **customer},
    }


def test_a_json_draft_is_cited_checked_and_audited(api: Api) -> None:
    resp = api.post("/v1/drafts", json=_body())
    assert resp.status_code == 200, resp.text
    d = resp.json()
    assert d["verdict"] in ("pass", "revise") and d["sendable"] is True and d["writer"] == "template"
    assert "理财非存款" in d["draft"] and "保本" not in d["draft"].replace("不保本", "")
    assert d["citations"] and all(c["source_path"].startswith("knowledge/") for c in d["citations"])
    assert any(c["source_path"].startswith("knowledge/products/") for c in d["citations"])
    for c in d["citations"]:  # every cited number appears in the text
        assert f"[{c['n']}]" in d["draft"]

    record = api.get(f"/v1/audit/{d['audit_id']}").json()
    assert record["kind"] == "draft" and record["actor"] == "rm1" and record["segment"] == "pension"
    p = record["payload"]
    assert p["message"] == PENSION_Q and p["draft"] == d["draft"] and p["writer"] == "template"
    assert p["context"]["customer_risk"] == "C2"
    assert [s["doc_id"] for s in p["sources"]] == [c["doc_id"] for c in d["citations"]]
    assert all("version" in s and "text" not in s for s in p["sources"])


def test_personal_data_in_the_message_is_masked_in_the_audit(api: Api) -> None:
    message = f"我身份证{RESIDENT_ID}，想问问大额存单起存金额"
    d = api.post("/v1/drafts", json=_body(message, segment="payroll")).json()
    assert RESIDENT_ID not in d["draft"]
    record = api.get(f"/v1/audit/{d['audit_id']}", as_user="comp1").json()
    assert RESIDENT_ID not in str(record) and "大额存单" in record["payload"]["message"]


def test_the_stream_sends_tokens_then_one_final_checked_draft(api: Api) -> None:
    with api.client.stream("POST", "/v1/drafts/stream", json=_body(), headers=api.auth("rm1")) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = sse_events(resp)
    kinds = [k for k, _ in events]
    assert kinds.count("final") == 1 and kinds[-1] == "final"
    assert "token" in kinds and kinds.index("token") < kinds.index("final")
    assert "error" not in kinds
    tokens = [data for kind, data in events if kind == "token"]
    assert all(set(t) == {"text"} for t in tokens)  # previews carry no verdict, nothing to send
    final = events[-1][1]
    assert final["sendable"] is True and final["verdict"] in ("pass", "revise") and final["citations"]
    assert final["audit_id"] and final["timings"]["api_total_ms"] > 0
    assert api.get(f"/v1/audit/{final['audit_id']}").json()["payload"]["draft"] == final["draft"]
    assert api.services.gate.stats()["active"] == 0


def test_bad_input_is_refused_before_the_stream_starts(api: Api) -> None:
    for path in ("/v1/drafts", "/v1/drafts/stream"):
        resp = api.post(path, json={**_body(), "product_codes": ["QH-NOPE-999"]})
        assert resp.status_code == 422 and error_of(resp)["code"] == "unknown_product"
        resp = api.post(path, json=_body(risk_level="R2"))
        assert resp.status_code == 422
        resp = api.post(path, json=_body("   "))
        assert resp.status_code == 422
    assert api.services.gate.stats() == {"active": 0, "waiting": 0, "concurrency": 1, "queue_size": 8}


def test_sent_as_drafted_is_checked_again_and_recorded(api: Api) -> None:
    d = api.post("/v1/drafts", json=_body()).json()
    resp = api.post(f"/v1/audit/{d['audit_id']}/action", json={"action": "sent", "final_text": d["draft"]})
    assert resp.status_code == 200, resp.text
    act = resp.json()
    assert act["action"] == "sent" and act["ref_audit_id"] == d["audit_id"] and act["sendable"] is True
    assert act["verdict"]["verdict"] in ("pass", "revise")
    record = api.get(f"/v1/audit/{d['audit_id']}").json()
    assert [a["payload"]["action"] for a in record["actions"]] == ["sent"]
    # "sent" means exactly the draft: a different text must go through "edited"
    resp = api.post(
        f"/v1/audit/{d['audit_id']}/action", json={"action": "sent", "final_text": d["draft"] + "！"}
    )
    assert resp.status_code == 422


def test_an_edited_text_is_checked_before_it_may_be_sent(api: Api) -> None:
    d = api.post("/v1/drafts", json=_body()).json()
    url = f"/v1/audit/{d['audit_id']}/action"
    bad = api.post(url, json={"action": "edited", "final_text": "阿姨放心，这款理财保本保息，稳赚不赔。"})
    assert bad.status_code == 422
    err = error_of(bad)
    assert err["code"] == "blocked" and err["detail"]["verdict"]["verdict"] == "block"
    assert err["detail"]["verdict"]["findings"]

    fixable = api.post(
        url, json={"action": "edited", "final_text": f"阿姨，请把身份证号{RESIDENT_ID}发我登记一下。"}
    )
    assert fixable.status_code == 422 and error_of(fixable)["code"] == "needs_revision"
    revised = error_of(fixable)["detail"]["verdict"]["revised"]
    assert revised and RESIDENT_ID not in revised

    good = "阿姨，这款产品不保本，业绩比较基准不是收益承诺。理财非存款、产品有风险、投资须谨慎。"
    ok = api.post(url, json={"action": "edited", "final_text": good})
    assert ok.status_code == 200 and ok.json()["verdict"]["verdict"] == "pass"
    actions = api.get(f"/v1/audit/{d['audit_id']}").json()["actions"]
    assert [(a["payload"]["action"], a["payload"]["final_text"]) for a in actions] == [("edited", good)]


def test_discarding_is_recorded(api: Api) -> None:
    d = api.post("/v1/drafts", json=_body()).json()
    resp = api.post(f"/v1/audit/{d['audit_id']}/action", json={"action": "discarded"})
    assert resp.status_code == 200 and resp.json()["verdict"] is None
    assert api.get(f"/v1/audit/{d['audit_id']}").json()["actions"][0]["payload"]["action"] == "discarded"
    resp = api.post(f"/v1/audit/{d['audit_id']}/action", json={"action": "forwarded"})
    assert resp.status_code == 422


def test_when_the_guardrail_fails_nothing_is_approved(content_copy) -> None:  # type: ignore[no-untyped-def]
    (content_copy.guardrails_dir / "disclosure.yaml").write_text("rules: {oops", encoding="utf-8")
    with make_api(content_copy) as api:
        d = api.post("/v1/drafts", json=_body()).json()
        assert d["verdict"] == "block" and d["sendable"] is False
        assert any(f["rule"] == "internal-error" for f in d["findings"])
        with api.client.stream("POST", "/v1/drafts/stream", json=_body(), headers=api.auth("rm1")) as resp:
            final = sse_events(resp)[-1]
        assert final[0] == "final" and final[1]["verdict"] == "block" and final[1]["sendable"] is False
        # and a blocked draft can never be recorded as sent
        resp = api.post(
            f"/v1/audit/{d['audit_id']}/action", json={"action": "sent", "final_text": d["draft"]}
        )
        assert resp.status_code == 422 and error_of(resp)["code"] == "blocked"
        assert api.get(f"/v1/audit/{d['audit_id']}").json()["actions"] == []


# --- a model server speaking the OpenAI protocol (a fake one on 127.0.0.1) ---------------------

MODEL_REPLY = (
    "阿姨您好，这款养老理财不保本，业绩比较基准不是收益承诺[1]。理财非存款、产品有风险、投资须谨慎。"
)


@pytest.fixture
def llm(api_settings) -> Iterator[tuple[Api, FakeOpenAIServer]]:  # type: ignore[no-untyped-def]
    with FakeOpenAIServer() as srv:
        settings = api_settings.model_copy(
            update={"llm_base_url": srv.base_url, "llm_model": "fake-model", "writer": "openai"}
        )
        with make_api(settings) as api:
            yield api, srv


def test_model_tokens_stream_as_they_arrive(llm: tuple[Api, FakeOpenAIServer]) -> None:
    api, srv = llm
    srv.reset(replies=[MODEL_REPLY])
    with api.client.stream("POST", "/v1/drafts/stream", json=_body(), headers=api.auth("rm1")) as resp:
        raw = resp.read().decode("utf-8")
    assert "阿姨" in raw  # Chinese stays readable on the wire
    events = sse_events(_Lines(raw))
    tokens = [d["text"] for k, d in events if k == "token"]
    assert len(tokens) > 3 and "".join(tokens).startswith("阿姨您好")
    final = events[-1][1]
    assert events[-1][0] == "final" and final["writer"] == "openai" and final["model"] == "fake-model"
    assert final["sendable"] is True and "不保本" in final["draft"]
    assert api.services.gate.concurrency == 4  # a model server batches: more than one at a time


def test_a_model_dying_mid_stream_falls_back_and_says_so(llm: tuple[Api, FakeOpenAIServer]) -> None:
    api, srv = llm
    srv.reset(mode="die", replies=[MODEL_REPLY])
    with api.client.stream("POST", "/v1/drafts/stream", json=_body(), headers=api.auth("rm1")) as resp:
        events = sse_events(resp)
    kinds = [k for k, _ in events]
    assert "fallback" in kinds and kinds[-1] == "final"
    assert kinds.index("fallback") < kinds.index("final")
    final = events[-1][1]
    assert final["writer"] == "template" and final["fallback_reason"] and final["sendable"] is True
    assert api.services.gate.stats()["active"] == 0


class _Lines:
    """Feed already-read SSE text to ``sse_events``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def iter_lines(self) -> Iterator[str]:
        yield from self.text.splitlines()


def test_a_follow_up_pronoun_is_resolved_to_the_previous_turns_product(api: Api) -> None:
    first = api.post("/v1/drafts", json=_body("月月盈现在收益怎么样？", segment="payroll", risk_level="C2")).json()
    assert "薪享月月盈" in first["draft"] and "业绩比较基准" in first["draft"]
    history = [{"role": "customer", "text": "月月盈现在收益怎么样？"}, {"role": "rm", "text": first["draft"]}]
    body = {**_body("那它能随时取吗？", segment="payroll", risk_level="C2"), "history": history}
    second = api.post("/v1/drafts", json=body).json()
    assert "月月盈" in second["draft"]  # "它" is the product of the previous turn
    assert any(c["doc_id"] == "product-qh-wm-r2-003" for c in second["citations"])
    assert "30天" in second["draft"]  # what its sheet says about taking the money out
    alone = api.post("/v1/drafts", json=_body("那它能随时取吗？", segment="payroll", risk_level="C2")).json()
    assert "月月盈" not in alone["draft"]  # without the history there is nothing to point back to
