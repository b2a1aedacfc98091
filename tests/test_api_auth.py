"""Sign-in and roles through the real app: 401 without a token, 403 for the wrong role, an RM's
records closed to other RMs, the loopback-only demo sign-in, sign-out."""

from __future__ import annotations

import pytest
from api_support import *  # noqa: F403
from api_support import Api, error_of
from fastapi.testclient import TestClient

from copilot.api import create_app
from copilot.api.session import DEMO_USERID


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me"),
        ("GET", "/v1/search?q=养老"),
        ("GET", "/v1/knowledge"),
        ("GET", "/v1/audit"),
        ("POST", "/v1/check"),
        ("POST", "/v1/drafts"),
        ("POST", "/v1/drafts/stream"),
        ("POST", "/v1/schedules"),
        ("GET", "/v1/audit/export"),
        ("GET", "/v1/wecom/jsconfig?url=https://a.example/"),
    ],
)
def test_every_api_route_needs_a_token(api: Api, method: str, path: str) -> None:
    resp = api.client.request(method, path, json={})
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"
    assert resp.headers["www-authenticate"] == "Bearer"


def test_unknown_and_malformed_tokens_are_401(api: Api) -> None:
    for header in ("Bearer cpt_not-a-real-token", "Bearer ", "Basic cm0xOnB3", api.tokens["rm1"]):
        resp = api.client.get("/v1/me", headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert "令牌" in error_of(resp)["message"] or "登录" in error_of(resp)["message"]


def test_me_names_the_user_and_role(api: Api) -> None:
    resp = api.get("/v1/me", as_user="comp1")
    assert resp.status_code == 200
    assert resp.json() == {"userid": "comp1", "name": "合规张", "role": "compliance", "role_name": "合规"}


def test_wrong_role_is_403(api: Api) -> None:
    for path in ("/v1/knowledge/reindex",):
        resp = api.post(path, as_user="rm1")
        assert resp.status_code == 403
        err = error_of(resp)
        assert err["code"] == "forbidden" and err["detail"]["your_role"] == "rm"
    assert api.get("/v1/audit/verify", as_user="rm1").status_code == 403
    resp = api.post(
        "/v1/knowledge", as_user="rm2", files={"file": ("a.md", "---\nid: x\ntitle: x\n---\n\n正文".encode())}
    )
    assert resp.status_code == 403


def test_a_disabled_users_token_stops_working(api: Api) -> None:
    assert api.get("/v1/me", as_user="rm2").status_code == 200
    api.services.auth.disable_user("rm2")
    assert api.get("/v1/me", as_user="rm2").status_code == 401


def test_an_rm_sees_only_their_own_records(api: Api) -> None:
    mine = api.post("/v1/check", as_user="rm1", json={"text": "您好，周末网点正常营业。"}).json()["audit_id"]
    theirs = api.post("/v1/check", as_user="rm2", json={"text": "您好，明天见。"}).json()["audit_id"]

    # one record: 403 for another RM, 200 for the owner and for compliance
    resp = api.get(f"/v1/audit/{mine}", as_user="rm2")
    assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden"
    assert api.get(f"/v1/audit/{mine}", as_user="rm1").json()["actor"] == "rm1"
    assert api.get(f"/v1/audit/{mine}", as_user="comp1").status_code == 200

    # lists: an RM's query is narrowed to themself; asking for someone else is refused
    rows = api.get("/v1/audit", as_user="rm2").json()
    assert rows["total"] == 1 and [r["audit_id"] for r in rows["items"]] == [theirs]
    assert api.get("/v1/audit", as_user="rm2", params={"actor": "rm1"}).status_code == 403
    everyone = api.get("/v1/audit", as_user="admin1").json()
    assert {r["actor"] for r in everyone["items"]} == {"rm1", "rm2"}
    assert api.get("/v1/audit", as_user="comp1", params={"actor": "rm1"}).json()["total"] == 1

    # exports follow the same rule
    export = api.get("/v1/audit/export", as_user="rm2", params={"format": "jsonl"})
    assert export.status_code == 200
    assert [line for line in export.text.splitlines() if line] and "rm1" not in export.text

    # and nobody may act on another RM's record
    resp = api.post(f"/v1/audit/{mine}/action", as_user="rm2", json={"action": "discarded"})
    assert resp.status_code == 403


def test_unknown_audit_id_is_404(api: Api) -> None:
    resp = api.get("/v1/audit/0123456789abcdef0123456789abcdef", as_user="comp1")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


def _demo_app(settings, **kw):  # type: ignore[no-untyped-def]
    app = create_app(settings, **kw)
    app.state.services.auth.create_user("演示客户经理", "rm", userid=DEMO_USERID)
    return app


def test_demo_sign_in_is_off_by_default(api_settings) -> None:  # type: ignore[no-untyped-def]
    app = _demo_app(api_settings)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        assert client.get("/v1/auth/options").json()["dev_login"] is False
        resp = client.post("/v1/auth/dev-login")
        assert resp.status_code == 404


def test_demo_sign_in_only_for_direct_loopback_requests(api_settings) -> None:  # type: ignore[no-untyped-def]
    app = _demo_app(api_settings, dev_login=True)
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/v1/auth/options").json()["dev_login"] is True
        resp = local.post("/v1/auth/dev-login")
        assert resp.status_code == 200
        session = resp.json()
        assert session["user"]["userid"] == DEMO_USERID and session["user"]["role"] == "rm"
        assert session["token"].startswith("cps_") and session["expires_in"] == api_settings.session_ttl_s
        headers = {"Authorization": f"Bearer {session['token']}"}
        assert local.get("/v1/me", headers=headers).json()["userid"] == DEMO_USERID
        # through a reverse proxy on the same host every caller looks local: refused
        proxied = local.post("/v1/auth/dev-login", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404
        # signing out ends the session
        assert local.post("/v1/auth/logout", headers=headers).json() == {"revoked": True}
        assert local.get("/v1/me", headers=headers).status_code == 401
    # offered only while the demo account exists and is enabled
    app.state.services.auth.disable_user(DEMO_USERID)
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/v1/auth/options").json()["dev_login"] is False
        assert local.post("/v1/auth/dev-login").status_code == 404
    with TestClient(app, client=("10.1.2.3", 50000)) as remote:
        assert remote.get("/v1/auth/options").json()["dev_login"] is False
        assert remote.post("/v1/auth/dev-login").status_code == 404


def test_logout_does_not_revoke_api_tokens(api: Api) -> None:
    assert api.post("/v1/auth/logout", as_user="rm1").json() == {"revoked": False}
    assert api.get("/v1/me", as_user="rm1").status_code == 200
