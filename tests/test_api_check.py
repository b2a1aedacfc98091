"""POST /v1/check through the real app and the real rule packs; every check is audited; a broken
rule pack means block (fail closed)."""

from __future__ import annotations

from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api

GUARANTEE = "这款理财保 本保息，稳赚不赔"
HONEST = "该产品业绩比较基准为年化2.8%-3.5%，业绩比较基准不构成收益承诺。理财非存款、产品有风险、投资须谨慎。"
RESIDENT_ID = "110101199003074514"  # valid check digit


def test_a_guarantee_is_blocked_with_the_law_cited(api: Api) -> None:
    resp = api.post("/v1/check", json={"text": GUARANTEE, "segment": "pension", "customer_risk": "c2"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["verdict"] == "block" and body["sendable"] is False
    guarantee = [f for f in body["findings"] if f["category"].startswith("guarantee") or "保" in f["text"]]
    assert guarantee and any("广告法" in f["citation"] for f in guarantee)
    for f in body["findings"]:  # spans point into the text the RM sent
        assert 0 <= f["start"] <= f["end"] <= len(GUARANTEE)


def test_an_honest_benchmark_passes_and_is_sendable(api: Api) -> None:
    body = api.post("/v1/check", json={"text": HONEST}).json()
    assert body["verdict"] == "pass" and body["findings"] == [] and body["sendable"] is True


def test_personal_data_is_revised_and_never_stored_in_clear(api: Api) -> None:
    text = f"请把身份证号{RESIDENT_ID}发我确认一下"
    body = api.post("/v1/check", json={"text": text, "external_userid": "wmEXTERNAL123"}).json()
    assert body["verdict"] == "revise" and body["sendable"] is False
    assert RESIDENT_ID not in body["revised"] and "*" in body["revised"]

    record = api.get(f"/v1/audit/{body['audit_id']}").json()
    assert record["kind"] == "check" and record["actor"] == "rm1" and record["verdict"] == "revise"
    stored = str(record)
    assert RESIDENT_ID not in stored and "wmEXTERNAL123" not in stored
    assert record["customer_ref"] and record["customer_ref"].startswith("c_")


def test_every_check_is_recorded_with_its_actor(api: Api) -> None:
    ids = [api.post("/v1/check", as_user=u, json={"text": HONEST}).json()["audit_id"] for u in ("rm1", "rm2")]
    rows = api.get("/v1/audit", as_user="comp1", params={"kind": "check"}).json()
    assert rows["total"] == 2
    assert {(r["audit_id"], r["actor"]) for r in rows["items"]} == {(ids[0], "rm1"), (ids[1], "rm2")}


def test_a_broken_rule_pack_blocks_everything(content_copy) -> None:  # type: ignore[no-untyped-def]
    (content_copy.guardrails_dir / "guarantee.yaml").write_text("rules: [ {id: broken", encoding="utf-8")
    with make_api(content_copy) as api:
        body = api.post("/v1/check", json={"text": HONEST}).json()
        assert body["verdict"] == "block" and body["sendable"] is False
        errors = [f for f in body["findings"] if f["rule"] == "internal-error"]
        assert errors and "guarantee.yaml" in errors[0]["message"]
        assert api.get(f"/v1/audit/{body['audit_id']}").json()["verdict"] == "block"


def test_text_length_is_bounded(api: Api) -> None:
    resp = api.post("/v1/check", json={"text": "好" * 5001})
    assert resp.status_code == 422 and error_of(resp)["detail"][0]["field"] == "text"
