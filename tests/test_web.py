"""The RM chat panel in a real browser: Debian's chromium driven by Playwright against a real
``copilot serve`` (uvicorn subprocess, template writer) on a free loopback port.

Screenshots go to test-artifacts/ (panel.png at desktop width, panel-360.png at WeCom sidebar width).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.config import CHECKOUT

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = CHECKOUT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
XSS = '<img src=x onerror="window.__xss=1"><b>粗体</b><script>window.__xss=2</script>'


def _ensure_chromium() -> None:
    """Playwright cannot download its browser here: use Debian's, installing it if missing."""
    if CHROMIUM.exists():
        return
    steps = [["apt-get", "update"], ["apt-get", "install", "-y", "chromium", "fonts-wqy-microhei"]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not install chromium ({' '.join(cmd)}): {done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, token: str, proc: subprocess.Popen[str], log: Path) -> None:
        self.url, self.token, self.proc, self.log = url, token, proc, log

    def api(self, path: str, **params: Any) -> Any:
        resp = httpx.get(self.url + path, params=params, headers={"Authorization": f"Bearer {self.token}"})
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="module")
def server(kb_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("serve") / "data"
    shutil.copytree(kb_settings.data_dir, data)  # an index, but no users and no audit yet
    port = _free_port()
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_WRITER": "template", "COLUMNS": "200"}
    log = data.parent / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "copilot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=CHECKOUT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(url + "/v1/auth/options", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"copilot serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        # copilot serve printed the demo RM's token once (no users existed)
        m = re.search(r"\b(cpt_[A-Za-z0-9_\-]{20,})", log.read_text())
        assert m, log.read_text()
        yield Server(url, m.group(1), proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


def _page(browser: Any, server: Server, width: int = 1280, init_script: str | None = None) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(server.url + "/")
    page.click("#dev-login")  # loopback demo sign-in, offered because the server binds 127.0.0.1
    page.wait_for_selector("#app:not([hidden])")
    return page


# Counts text appended to the draft while it is still streaming (before the final event).
COUNT_STREAMED = """
window.__streamed = 0;
new MutationObserver(() => {
  const box = document.getElementById('draft-text');
  if (box.classList.contains('streaming') && box.textContent) window.__streamed += 1;
}).observe(document.getElementById('draft-text'), {childList: true, subtree: true, characterData: true});
"""


def _draft(page: Any, message: str, risk: str = "C2") -> None:
    page.select_option("#segment", "pension")
    page.select_option("#risk", risk)
    page.fill("#message", message)
    page.evaluate(COUNT_STREAMED)
    page.click("#draft-btn")
    page.wait_for_selector("#badge:not([hidden])", timeout=120_000)


def test_a_question_gets_a_streamed_cited_checked_draft(browser: Any, server: Server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _page(browser, server)
    assert page.text_content("#who") == "演示客户经理（客户经理）"
    _draft(page, "这个养老理财保本吗？能拿到3.5%吗？")

    assert page.evaluate("window.__streamed") >= 1  # tokens arrived before the final draft
    draft = page.text_content("#draft-text")
    assert "理财非存款" in draft and "[1]" in draft
    badge = page.locator("#badge")
    assert badge.get_attribute("class") in ("badge pass", "badge revise")
    assert badge.text_content() in ("合规通过", "需修改")
    chips = page.locator("#citations .chip")
    assert chips.count() >= 1 and chips.first.text_content().startswith("[1] ")
    assert page.is_enabled("#send-btn")
    page.screenshot(path=str(ARTIFACTS / "panel.png"), full_page=True)

    chips.first.click()  # a citation chip opens its source passage
    page.wait_for_selector("#passage[open]")
    assert len(page.text_content("#passage-text")) > 20
    assert "knowledge/" in page.text_content("#passage-meta")
    page.click("#passage button")
    assert page.errors == []  # type: ignore[attr-defined]


def test_sending_records_the_action_and_uses_wecom_when_present(browser: Any, server: Server) -> None:
    fake_sdk = "window.ww = {sendChatMessage: async (m) => { window.__sent = m; return {errMsg: 'ok'}; }};"
    page = _page(browser, server, init_script=fake_sdk)
    _draft(page, "大额存单多少钱起存？")
    draft = page.text_content("#draft-text")
    before = server.api("/v1/audit", kind="action")["total"]
    page.click("#send-btn")
    page.wait_for_selector("#action-status.ok")
    assert "企业微信" in page.text_content("#action-status")
    assert page.evaluate("window.__sent") == {"msgtype": "text", "text": {"content": draft}}
    actions = server.api("/v1/audit", kind="action")
    assert actions["total"] == before + 1 and actions["items"][0]["payload"]["action"] == "sent"
    assert page.is_disabled("#send-btn")  # one action per draft


def test_an_edited_guarantee_is_stopped_before_sending(browser: Any, server: Server) -> None:
    page = _page(browser, server)
    _draft(page, "这个养老理财保本吗？")
    page.click("#edit-btn")
    page.fill("#draft-edit", "阿姨放心，这款理财保本保息，稳赚不赔！")
    page.click("#send-btn")
    page.wait_for_selector("#action-status.error")
    assert "不能发送" in page.text_content("#action-status")
    assert page.locator("#badge").get_attribute("class") == "badge block"
    assert page.locator("#findings .finding.sev-block").count() >= 1


def test_html_in_messages_renders_as_text(browser: Any, server: Server) -> None:
    page = _page(browser, server, width=360)
    _draft(page, f"请问{XSS}定期存款利率多少？")
    assert page.text_content("#customer-text") == f"请问{XSS}定期存款利率多少？"
    assert page.locator("#conversation img, #conversation b, #conversation script").count() == 0
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=str(ARTIFACTS / "panel-360.png"), full_page=True)

    page.click("[data-tab=search]")
    page.fill("#search-q", XSS)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-status:not(.busy)")  # (the panel's CSP forbids wait_for_function's eval)
    assert "<b>粗体</b>" in page.text_content("#search-status")
    assert page.locator("#tab-search img, #tab-search b").count() == 0
    assert page.evaluate("window.__xss") is None


def test_knowledge_search_tab(browser: Any, server: Server) -> None:
    page = _page(browser, server, width=360)
    page.click("[data-tab=search]")
    page.fill("#search-q", "老人适合买什么理财")
    page.select_option("#search-segment", "pension")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-results li")
    first = page.locator("#search-results li").first
    assert "knowledge/" in first.text_content()


def test_schedule_tab_shows_a_calendar_and_downloads(browser: Any, server: Server) -> None:
    page = _page(browser, server)
    page.click("[data-tab=schedule]")
    page.select_option("#sched-segment", "credit_card")
    page.fill("#sched-start", "2026-12-07")  # a Monday
    page.select_option("#sched-weeks", "1")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_selector("#sched-result:not([hidden])", timeout=120_000)
    days = page.locator(".cal-day:not(.out)")
    assert days.count() == 7
    assert page.locator("#calendar .slot").count() >= 4
    page.locator("#calendar .slot").first.click()
    detail = page.locator("#slot-detail")
    assert detail.is_visible() and page.locator("#slot-detail .badge").count() == 1
    page.screenshot(path=str(ARTIFACTS / "schedule.png"), full_page=True)
    for fmt, marker in (("csv", "主题"), ("ics", "BEGIN:VCALENDAR")):
        with page.expect_download() as info:
            page.click(f"#dl-{fmt}")
        path = info.value.path()
        assert info.value.suggested_filename == f"schedule-credit_card-2026-12-07.{fmt}"
        assert marker in Path(path).read_text(encoding="utf-8")


def test_a_follow_up_sends_the_earlier_turns_and_new_chat_clears_them(browser: Any, server: Server) -> None:
    page = _page(browser, server)
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/v1/drafts/stream") else None)
    _draft(page, "安享养老是什么产品？")
    first_draft = page.text_content("#draft-text")
    assert "1 轮" in page.text_content("#turns")
    _draft(page, "那它能随时取吗？")
    assert sent[0]["history"] == []
    assert sent[1]["history"] == [
        {"role": "customer", "text": "安享养老是什么产品？"},
        {"role": "rm", "text": first_draft},
    ]
    page.click("#new-chat-btn")
    assert page.text_content("#turns") == "" and not page.is_visible("#new-chat-btn")
    assert page.errors == []  # type: ignore[attr-defined]
