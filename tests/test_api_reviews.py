"""The review queue over HTTP (copilot/api/reviews.py), on SQLite and on PostgreSQL: who may use it,
the filters, a decision recorded in the chain that ``copilot audit verify`` covers, tampering with a
decision detected, and the error answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api
from typer.testing import CliRunner

from copilot.config import Settings

GUARANTEE = "阿姨放心，这款理财保本保收益，稳赚不赔！"
PHONE_TEXT = "请回电 13812345678，我给您细说。"
PLAIN = "您好，明天网点九点开门，欢迎来办理业务。"


@pytest.fixture(params=["sqlite", "postgres"])
def rapi(request: pytest.FixtureRequest, api_settings: Settings) -> Iterator[Api]:
    """The app on a private SQLite file, or on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        with make_api(api_settings) as a:
            yield a
        return
    from conftest import pg_schema_url

    with pg_schema_url() as url, make_api(api_settings.model_copy(update={"database_url": url})) as a:
        yield a


def _check(api: Api, text: str, segment: str | None = None, user: str = "rm1") -> str:
    body: dict = {"text": text}
    if segment:
        body["segment"] = segment
    resp = api.post("/v1/check", as_user=user, json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["audit_id"]


def _trail(api: Api) -> dict[str, str]:
    return {
        "guarantee": _check(api, GUARANTEE, "pension", "rm1"),
        "plain": _check(api, PLAIN, "pension", "rm1"),
        "phone": _check(api, PHONE_TEXT, "payroll", "rm2"),
    }


def _ids(api: Api, **params: object) -> list[str]:
    resp = api.get("/v1/reviews", as_user="comp1", params=params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == len(body["items"]) or body["limit"] < body["total"]
    return [i["audit_id"] for i in body["items"]]


def _verify_cli(api: Api) -> tuple[int, str]:
    from copilot.cli import app

    res = CliRunner().invoke(app, ["audit", "verify", "--db", api.services.audit.url, "--json"])
    return res.exit_code, res.stdout


def test_an_rm_is_refused_and_anonymous_is_unauthorised(rapi: Api) -> None:
    item = _check(rapi, GUARANTEE, "pension")
    for resp in (rapi.get("/v1/reviews"), rapi.post(f"/v1/reviews/{item}", json={"decision": "correct"}),
                 rapi.get(f"/v1/reviews/{item}"), rapi.get("/v1/reviews/categories")):
        assert resp.status_code == 403, resp.text
        assert "合规" in error_of(resp)["message"]
    anon = rapi.get("/v1/reviews", as_user=None)
    assert anon.status_code == 401 and "登录" in error_of(anon)["message"]
    assert rapi.services.audit.query(kind="review")[1] == 0


def test_the_queue_and_its_filters(rapi: Api) -> None:
    ids = _trail(rapi)
    assert _ids(rapi) == [ids["phone"], ids["guarantee"]]  # the clean check is not queued
    assert _ids(rapi, category="guarantee") == [ids["guarantee"]]
    assert _ids(rapi, segment="payroll") == [ids["phone"]]
    assert _ids(rapi, rm="rm1") == [ids["guarantee"]]
    assert _ids(rapi, verdict="revise") == [ids["phone"]]
    assert _ids(rapi, limit=1, offset=1) == [ids["guarantee"]]
    item = rapi.get(f"/v1/reviews/{ids['phone']}", as_user="comp1").json()
    assert "13812345678" not in item["text"] and item["categories"] == ["pii"] and item["rm"] == "rm2"
    assert item["decision"] is None and item["findings"][0]["rule"].startswith("pii")
    admin = rapi.get("/v1/reviews", as_user="admin1")
    assert admin.status_code == 200 and admin.json()["total"] == 2
    cats = rapi.get("/v1/reviews/categories", as_user="comp1").json()
    assert cats["guarantee"] == "承诺保本保收益"


def test_a_decision_is_chained_and_verified(rapi: Api) -> None:
    ids = _trail(rapi)
    resp = rapi.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1",
                     json={"decision": "correct", "note": "确属保本承诺"})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["audit_id"] == ids["guarantee"] and got["decisions"] == 1
    assert (got["decision"]["decision"], got["decision"]["reviewer"]) == ("correct", "comp1")
    assert got["decision"]["expected_verdict"] == "block"
    wrong = rapi.post(f"/v1/reviews/{ids['phone']}", as_user="admin1", json={
        "decision": "wrong", "note": "号码是网点座机，不是个人信息", "expected_verdict": "pass", "categories": []})
    assert wrong.status_code == 200 and wrong.json()["decision"]["expected_verdict"] == "pass"
    assert _ids(rapi, decided="true") == [ids["phone"], ids["guarantee"]]
    assert _ids(rapi, decided="false") == []

    # The decision rows are in the chain: the API's and the CLI's verification cover them.
    verified = rapi.get("/v1/audit/verify", as_user="comp1").json()
    assert verified["ok"] and verified["rows"] == 5
    code, out = _verify_cli(rapi)
    assert code == 0 and '"rows":5' in out
    reviews = rapi.get("/v1/audit", as_user="comp1", params={"kind": "review"}).json()
    assert reviews["total"] == 2 and {r["ref_audit_id"] for r in reviews["items"]} == {ids["guarantee"], ids["phone"]}


def test_a_tampered_decision_is_detected(rapi: Api) -> None:
    ids = _trail(rapi)
    rapi.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1", json={"decision": "correct", "note": "拦截正确"})
    rapi.post(f"/v1/reviews/{ids['phone']}", as_user="comp1", json={"decision": "correct"})
    seq = rapi.services.audit.query(kind="review")[0][-1].seq
    with rapi.services.audit.engine.begin() as conn:  # someone flips the first decision behind the service
        conn.execute(sa.text("UPDATE audit_log SET payload = REPLACE(payload, '拦截正确', '放行亦可') WHERE seq = :s"),
                     {"s": seq})
    assert "放行亦可" in rapi.get(f"/v1/reviews/{ids['guarantee']}", as_user="comp1").json()["decision"]["note"]
    verified = rapi.get("/v1/audit/verify", as_user="comp1").json()
    assert not verified["ok"] and verified["first_broken_seq"] == seq
    code, out = _verify_cli(rapi)
    assert code == 1 and f'"first_broken_seq":{seq}' in out


def test_rms_never_see_decisions(api: Api) -> None:
    ids = _trail(api)
    review = api.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1",
                      json={"decision": "wrong", "note": "内部备注", "expected_verdict": "revise"})
    assert review.status_code == 200
    review_id = review.json()["decision"]["review_id"]
    own = api.get(f"/v1/audit/{ids['guarantee']}", as_user="rm1")
    assert own.status_code == 200 and own.json()["actions"] == []
    assert api.get(f"/v1/audit/{review_id}", as_user="rm1").status_code == 403
    assert api.get("/v1/audit", as_user="rm1", params={"kind": "review"}).json()["total"] == 0


def test_errors(api: Api) -> None:
    ids = _trail(api)
    unknown = api.post("/v1/reviews/" + "f" * 32, as_user="comp1", json={"decision": "correct"})
    assert unknown.status_code == 404 and "不存在" in error_of(unknown)["message"]
    assert api.get("/v1/reviews/" + "f" * 32, as_user="comp1").status_code == 404
    for body in ({"decision": "maybe"}, {}, {"decision": "wrong", "expected_verdict": "later"},
                 {"decision": "correct", "note": "长" * 1001}):
        bad = api.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1", json=body)
        assert bad.status_code == 422, bad.text
        assert "输入内容不符合要求" in error_of(bad)["message"]
    for body, words in (({"decision": "wrong", "note": " "}, "说明"),
                        ({"decision": "wrong", "note": "x", "categories": ["nope"]}, "类别"),
                        ({"decision": "correct", "expected_verdict": "pass"}, "正确")):
        bad = api.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1", json=body)
        assert bad.status_code == 422 and words in error_of(bad)["message"], bad.text
    schedule = api.services.audit.record("schedule", "rm1", {"segment": "pension", "verdict": "pass"})
    not_item = api.post(f"/v1/reviews/{schedule}", as_user="comp1", json={"decision": "correct"})
    assert not_item.status_code == 422 and "只能复核" in error_of(not_item)["message"]
    bad_filter = api.get("/v1/reviews", as_user="comp1", params={"category": "nope"})
    assert bad_filter.status_code == 422 and "类别" in error_of(bad_filter)["message"]
    bad_segment = api.get("/v1/reviews", as_user="comp1", params={"segment": "moon"})
    assert bad_segment.status_code == 422
    assert api.services.audit.query(kind="review")[1] == 0
    assert api.services.audit.verify().ok


def test_export_after_api_decisions(api: Api, tmp_path: Path) -> None:
    from copilot.cli import app

    ids = _trail(api)
    api.post(f"/v1/reviews/{ids['guarantee']}", as_user="comp1", json={"decision": "correct"})
    out = tmp_path / "reviews.jsonl"
    res = CliRunner().invoke(app, ["review", "export", "--db", api.services.audit.url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").count("\n") == 1 and ids["guarantee"] in out.read_text(encoding="utf-8")
