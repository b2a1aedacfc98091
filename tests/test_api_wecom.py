"""WeCom sidebar endpoints through the real app, against a fake WeCom server on 127.0.0.1 speaking
WeCom's JSON protocol, and the callback URL against WeCom's published crypto sample."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api
from fakes.wecom_server import FakeWeComServer

# WeCom's official WXBizMsgCrypt sample values (also used in tests/test_wecom.py).
from fakes.wecom_vectors import CB_AES_KEY, CB_CORP, CB_TOKEN, VERIFY, VERIFY_PLAIN
from pydantic import SecretStr

from copilot.wecom import WeComCrypto, js_sdk_signature, msg_signature

CORP = CB_CORP
SECRET = "fake-app-secret"


@pytest.fixture
def wecom() -> Iterator[FakeWeComServer]:
    with FakeWeComServer(corp_id=CORP, secret=SECRET) as server:
        yield server


@pytest.fixture
def wapi(api_settings, wecom: FakeWeComServer) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    settings = api_settings.model_copy(
        update={
            "wecom_base_url": wecom.base_url,
            "wecom_corp_id": CORP,
            "wecom_agent_id": "1000002",
            "wecom_secret": SecretStr(SECRET),
            "wecom_token": SecretStr(CB_TOKEN),
            "wecom_aes_key": SecretStr(CB_AES_KEY),
            "session_ttl_s": 600,
        }
    )
    with make_api(settings) as a:
        yield a


def test_sidebar_login_trades_a_code_for_a_short_session(wapi: Api, wecom: FakeWeComServer) -> None:
    code = wecom.issue_code("rm1")
    resp = wapi.post("/v1/wecom/login", as_user=None, json={"code": code})
    assert resp.status_code == 200, resp.text
    session = resp.json()
    assert session["user"] == {"userid": "rm1", "name": "林经理", "role": "rm", "role_name": "客户经理"}
    assert session["token"].startswith("cps_") and session["expires_in"] == 600
    me = wapi.client.get("/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert me.json()["userid"] == "rm1"
    assert wecom.calls["/cgi-bin/auth/getuserinfo"] == 1

    # the code is single-use
    again = wapi.post("/v1/wecom/login", as_user=None, json={"code": code})
    assert again.status_code == 401
    err = error_of(again)
    assert err["code"] == "wecom_login_failed" and "40029" in err["message"]


def test_login_refuses_members_not_enrolled_and_non_members(wapi: Api, wecom: FakeWeComServer) -> None:
    resp = wapi.post("/v1/wecom/login", as_user=None, json={"code": wecom.issue_code("someone-else")})
    assert resp.status_code == 403 and error_of(resp)["code"] == "not_enrolled"
    resp = wapi.post("/v1/wecom/login", as_user=None, json={"code": wecom.issue_code(external_userid="wmX")})
    assert resp.status_code == 401
    wapi.services.auth.disable_user("rm2")
    resp = wapi.post("/v1/wecom/login", as_user=None, json={"code": wecom.issue_code("rm2")})
    assert resp.status_code == 403


def test_wecom_down_is_503(api_settings) -> None:  # type: ignore[no-untyped-def]
    settings = api_settings.model_copy(
        update={
            "wecom_base_url": "http://127.0.0.1:9",
            "wecom_corp_id": CORP,
            "wecom_secret": SecretStr(SECRET),
        }
    )
    with make_api(settings) as api:
        resp = api.post("/v1/wecom/login", as_user=None, json={"code": "abc"})
        assert resp.status_code == 503 and error_of(resp)["code"] == "wecom_unavailable"
        assert resp.headers["retry-after"]


def test_wecom_not_configured_is_503(api: Api) -> None:
    resp = api.post("/v1/wecom/login", as_user=None, json={"code": "abc"})
    assert resp.status_code == 503 and error_of(resp)["code"] == "wecom_not_configured"
    assert api.get("/v1/auth/options", as_user=None).json()["wecom"] is False


def test_jsconfig_signs_the_page_url_and_caches_the_ticket(wapi: Api, wecom: FakeWeComServer) -> None:
    url = "https://rm.example.com/?code=abc&state=x#/draft"
    first = wapi.get("/v1/wecom/jsconfig", params={"url": url})
    assert first.status_code == 200, first.text
    cfg = first.json()
    assert cfg["appId"] == cfg["corpid"] == CORP and cfg["agentid"] == "1000002"
    page = url.split("#")[0]
    assert cfg["signature"] == js_sdk_signature(
        wecom.current_ticket("jsapi"), cfg["nonceStr"], cfg["timestamp"], page
    )
    assert cfg["agentSignature"] == js_sdk_signature(
        wecom.current_ticket("agent_config"), cfg["nonceStr"], cfg["timestamp"], page
    )
    for _ in range(3):
        assert wapi.get("/v1/wecom/jsconfig", params={"url": url}).status_code == 200
    # tickets and the access token are fetched once and cached (WeCom rate-limits them)
    assert wecom.calls["/cgi-bin/get_jsapi_ticket"] == 1
    assert wecom.calls["/cgi-bin/ticket/get"] == 1
    assert wecom.calls["/cgi-bin/gettoken"] == 1

    assert wapi.get("/v1/wecom/jsconfig", params={"url": "javascript:alert(1)//x"}).status_code == 422
    assert wapi.get("/v1/wecom/jsconfig", as_user=None, params={"url": url}).status_code == 401


def test_callback_url_verification_echoes_the_decrypted_echostr(wapi: Api) -> None:
    resp = wapi.client.get("/v1/wecom/callback", params=VERIFY)
    assert resp.status_code == 200 and resp.text == VERIFY_PLAIN
    tampered = {**VERIFY, "msg_signature": "0" * 40}
    resp = wapi.client.get("/v1/wecom/callback", params=tampered)
    assert resp.status_code == 403 and error_of(resp)["code"] == "bad_signature"


def test_callback_event_is_verified_then_decrypted(wapi: Api) -> None:
    crypto = WeComCrypto(CB_TOKEN, CB_AES_KEY, CORP)
    event = (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]>"
        "</ChangeType></xml>"
    )
    sealed = crypto.encrypt(event, nonce="1372623149", timestamp="1409659813")
    body = (
        f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName>"
        f"<Encrypt><![CDATA[{sealed['encrypt']}]]></Encrypt></xml>"
    )
    query = f"msg_signature={sealed['msg_signature']}&timestamp=1409659813&nonce=1372623149"
    resp = wapi.client.post(f"/v1/wecom/callback?{query}", content=body.encode())
    assert resp.status_code == 200 and resp.text == "success"

    # a signature over other content, or a body that is not XML, is refused
    wrong = msg_signature(CB_TOKEN, "1409659813", "1372623149", "AAAA")
    resp = wapi.client.post(
        f"/v1/wecom/callback?msg_signature={quote(wrong)}&timestamp=1409659813&nonce=1372623149", content=body
    )
    assert resp.status_code == 403
    resp = wapi.client.post(f"/v1/wecom/callback?{query}", content=b"not xml")
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"
