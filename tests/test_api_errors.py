"""One error shape for every failure; request size limits; bad JSON; OpenAPI and the panel's
static files (served locally, with a strict content-security policy)."""

from __future__ import annotations

from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api


def test_bad_json_is_400_with_the_common_shape(api: Api) -> None:
    resp = api.post("/v1/check", content=b'{"text": "abc",', headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    err = error_of(resp)
    assert err["code"] == "invalid_json" and "JSON" in err["message"]


def test_validation_errors_name_the_field(api: Api) -> None:
    resp = api.post("/v1/check", json={"text": ""})
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["code"] == "invalid_input" and "text" in err["message"]
    assert err["detail"][0]["field"] == "text"

    resp = api.post("/v1/check", json={"text": "您好", "customer_risk": "C9"})
    assert resp.status_code == 422 and error_of(resp)["detail"][0]["field"] == "customer_risk"

    resp = api.post("/v1/drafts", json={"message": "你好", "customer": {"segment": "vip"}})
    assert resp.status_code == 422 and "customer.segment" in error_of(resp)["message"]

    resp = api.get("/v1/audit", as_user="comp1", params={"limit": 0})
    assert resp.status_code == 422 and error_of(resp)["detail"][0]["field"] == "limit"


def test_json_body_without_json_content_type_is_refused(api: Api) -> None:
    resp = api.post("/v1/check", content=b'{"text": "abc"}', headers={"Content-Type": "text/plain"})
    assert resp.status_code == 422
    error_of(resp)


def test_unknown_api_path_and_method_use_the_same_shape(api: Api) -> None:
    resp = api.get("/v1/nothing-here")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    resp = api.client.delete("/v1/check", headers=api.auth("rm1"))
    assert resp.status_code == 405 and error_of(resp)["code"] == "method_not_allowed"


def test_request_body_over_the_limit_is_413(api_settings) -> None:  # type: ignore[no-untyped-def]
    small = api_settings.model_copy(update={"max_request_bytes": 4096})
    with make_api(small) as api:
        big = {"text": "您好" * 3000}  # ~18 KB of UTF-8
        resp = api.post("/v1/check", json=big)
        assert resp.status_code == 413
        err = error_of(resp)
        assert (
            err["code"] == "too_large" and err["detail"]["limit_bytes"] == 4096 and "上限" in err["message"]
        )
        # the same without Content-Length (chunked): the limit counts bytes as they arrive
        resp = api.post(
            "/v1/check",
            content=iter([b'{"text": "', "好".encode() * 3000, b'"}']),
            headers={"Content-Type": "application/json"},
        )
        assert resp.status_code == 413
        # under the limit is fine
        assert api.post("/v1/check", json={"text": "您好"}).status_code == 200


def test_security_headers_and_no_store_on_the_api(api: Api) -> None:
    resp = api.get("/v1/me")
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in resp.headers["content-security-policy"]


def test_panel_assets_are_served_locally(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "客户经理助手" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    for asset, kind in (("/app.js", "javascript"), ("/style.css", "text/css")):
        resp = api.client.get(asset)
        assert resp.status_code == 200 and kind in resp.headers["content-type"]
        assert "https://" not in resp.text and "http://" not in resp.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp


def test_openapi_and_docs(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/drafts",
        "/v1/drafts/stream",
        "/v1/check",
        "/v1/search",
        "/v1/schedules",
        "/v1/knowledge",
        "/v1/knowledge/reindex",
        "/v1/audit",
        "/v1/audit/{audit_id}",
        "/v1/audit/{audit_id}/action",
        "/v1/audit/export",
        "/v1/audit/verify",
        "/v1/wecom/login",
        "/v1/wecom/jsconfig",
        "/v1/wecom/callback",
    ):
        assert path in paths, path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    docs = api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Swagger UI's script is served by this app when fastapi-offline is installed, else from a CDN
    if "/static-docs/" in docs.text:
        assert api.client.get("/static-docs/swagger-ui-bundle.js").status_code == 200
    else:
        assert "cdn.jsdelivr.net" in docs.text
