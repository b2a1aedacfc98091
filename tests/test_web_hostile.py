"""Hostile text from the model in the panel, in a real browser: a model server (the fake one, in
its own process on loopback) answers with HTML and JavaScript. While it streams and after the
checked draft replaces it, the markup shows as literal text, no element is created from it and
no script runs. (A customer message and a search query with HTML: tests/test_web.py.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ops_support import fake_model_process, free_port
from test_web import CHROMIUM, LAUNCH_ARGS, _ensure_chromium

from copilot.config import CHECKOUT

pytestmark = pytest.mark.slow

XSS_REPLY = (
    '阿姨您好<img src=x onerror="window.__xss=1">，这款养老理财不保本<script>window.__xss=2</script>，'
    '<a href="javascript:window.__xss=3">点这里</a>业绩比较基准不是收益承诺[1]。理财非存款、产品有风险、投资须谨慎。'
)
# Remembers every text the draft box showed, so the streamed preview is checked too.
WATCH = """
window.__seen = [];
new MutationObserver(() => {
  window.__seen.push(document.getElementById('draft-text').textContent);
}).observe(document.getElementById('draft-text'), {childList: true, subtree: true, characterData: true});
"""


@pytest.fixture(scope="module")
def server(kb_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(kb_settings.data_dir, data)
    with fake_model_process(XSS_REPLY) as (base_url, _):
        port = free_port()
        env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_WRITER": "openai",
               "COPILOT_LLM_BASE_URL": base_url, "COPILOT_LLM_MODEL": "fake-model"}
        log = data.parent / "serve.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "copilot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=CHECKOUT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
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
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_html_from_the_model_renders_as_text(server: str) -> None:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page: Any = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server + "/")
            page.click("#dev-login")
            page.wait_for_selector("#app:not([hidden])")
            page.select_option("#segment", "pension")
            page.select_option("#risk", "C2")
            page.fill("#message", "这个养老理财保本吗？")
            page.evaluate(WATCH)
            page.click("#draft-btn")
            page.wait_for_selector("#badge:not([hidden])", timeout=120_000)

            seen = page.evaluate("window.__seen")
            assert any("<img src=x" in s for s in seen), seen[-3:]  # the preview showed the markup as text
            final = page.text_content("#draft-text")
            if "img" in final:  # the checked draft kept the model's text: still literal
                assert re.search(r"<img src=x", final), final
            created = "#conversation img, #conversation script, #conversation a[href^=javascript]"
            assert page.locator(created).count() == 0
            assert page.evaluate("window.__xss") is None
            assert errors == []
        finally:
            browser.close()
