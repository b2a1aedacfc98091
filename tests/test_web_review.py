"""The compliance review page in a real browser (Debian's chromium, Playwright) against a real
``copilot serve``: a compliance user signs in with a token, sees the RM's flagged checks with their
findings, marks one correct, and sees it decided; the decision is in the verified audit chain.

Screenshots: test-artifacts/review.png (desktop) and review-360.png (WeCom sidebar width).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from test_web import ARTIFACTS, XSS, Server, _page, browser, server  # noqa: F401 (fixtures)

from copilot.config import CHECKOUT

pytestmark = pytest.mark.slow

GUARANTEE = "阿姨放心，这款理财保本保收益，稳赚不赔！"


def _create_compliance_user(srv: Server) -> str:
    """``copilot users create`` on the server's data directory; returns the printed token."""
    data = srv.log.parent / "data"
    env = {**os.environ, "COPILOT_DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "users", "create", "--name", "合规张", "--role", "compliance",
         "--userid", "comp-web"],
        cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _check(srv: Server, text: str, segment: str) -> str:
    resp = httpx.post(srv.url + "/v1/check", json={"text": text, "segment": segment},
                      headers={"Authorization": f"Bearer {srv.token}"}, timeout=60)
    resp.raise_for_status()
    return resp.json()["audit_id"]


def _as(srv: Server, token: str, path: str, **params: Any) -> Any:
    resp = httpx.get(srv.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    resp.raise_for_status()
    return resp.json()


def test_a_compliance_user_marks_a_flagged_check(browser: Any, server: Server) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    token = _create_compliance_user(server)
    flagged = _check(server, GUARANTEE, "pension")
    hostile = _check(server, f"保本理财{XSS}", "payroll")

    rm_page = _page(browser, server)  # the demo RM: no review tab
    assert rm_page.locator("[data-tab=review]").is_hidden()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#app:not([hidden])")
    assert page.text_content("#who") == "合规张（合规）"
    page.click("[data-tab=review]")
    item = page.locator(f"li.review-item[data-audit-id='{flagged}']")
    item.wait_for()

    # The RM's text, its verdict and its findings (with category names) are shown, as text.
    assert item.locator(".review-text").text_content() == GUARANTEE
    assert item.locator(".badge").text_content() == "拦截"
    assert item.locator(".finding .finding-cat", has_text="承诺保本保收益").count() >= 1
    assert item.locator(".review-decision").text_content() == "待复核"
    other = page.locator(f"li.review-item[data-audit-id='{hostile}'] .review-text")
    assert other.text_content() == f"保本理财{XSS}"
    assert page.locator("#tab-review img, #tab-review script, #tab-review b").count() == 0
    assert page.evaluate("window.__xss") is None

    item.locator(".review-note").fill("确属保本承诺，拦截正确")
    item.locator(".review-correct").click()
    decided = page.locator(f"li.review-item[data-audit-id='{flagged}'] .review-decision.decided-correct")
    decided.wait_for()
    assert "已复核：正确（comp-web" in decided.text_content()
    assert "确属保本承诺" in decided.text_content()
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 900})  # WeCom's sidebar width
    page.screenshot(path=str(ARTIFACTS / "review-360.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Filtered to decided items: exactly the one just marked.
    page.select_option("#review-decided", "true")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("#review-status:not(.busy)")
    ids = page.eval_on_selector_all("li.review-item", "els => els.map(e => e.dataset.auditId)")
    assert ids == [flagged]

    queue = _as(server, token, "/v1/reviews", decided="true")
    assert queue["total"] == 1 and queue["items"][0]["decision"]["note"] == "确属保本承诺，拦截正确"
    assert _as(server, token, "/v1/audit/verify")["ok"]
    assert errors == []
