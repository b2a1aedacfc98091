"""`copilot draft` end to end, as a separate process on the test knowledge base."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from copilot.config import Settings

PENSION_Q = "这个养老理财保本吗？能拿到3.5%吗？"


def run_cli(settings: Settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env["COPILOT_DATA_DIR"] = str(settings.data_dir)
    return subprocess.run(
        [sys.executable, "-m", "copilot.cli", "draft", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_draft_json_with_templates(kb_settings: Settings) -> None:
    r = run_cli(
        kb_settings,
        "--segment",
        "pension",
        "--customer-risk",
        "C2",
        "--message",
        PENSION_Q,
        "--writer",
        "template",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["verdict"] in ("pass", "revise") and d["sendable"] and d["writer"] == "template"
    assert "理财非存款、产品有风险、投资须谨慎" in d["draft"]
    assert any(c["doc_id"] == "product-qh-wm-r2-002" for c in d["citations"])


def test_draft_human_output_and_stream(kb_settings: Settings) -> None:
    r = run_cli(kb_settings, "-s", "credit_card", "-m", "券又没了，每次都抢不到", "--writer", "template")
    assert r.returncode == 0, r.stderr
    assert "草稿" in r.stdout and "可发送" in r.stdout and "script-cc-05" not in r.stdout
    assert "权益券抢完" in r.stdout  # the cited script's title
    r = run_cli(kb_settings, "-s", "pension", "-m", PENSION_Q, "--writer", "template", "--stream", "--json")
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[-1]["type"] == "final" and events[0]["type"] == "token"


def test_bad_input_exits_2_with_a_chinese_message(kb_settings: Settings) -> None:
    r = run_cli(
        kb_settings, "-s", "pension", "-m", "这个怎么样", "--product", "QH-XX-999", "--writer", "template"
    )
    assert r.returncode == 2 and "未知产品代码" in r.stderr
    r = run_cli(kb_settings, "-s", "pension", "-m", "  ", "--writer", "template")
    assert r.returncode == 2 and "输入无效" in r.stderr
    r = run_cli(kb_settings, "-s", "pension", "-m", "你好", "--customer-risk", "C7", "--writer", "template")
    assert r.returncode == 2 and "C1–C5" in r.stderr


def test_empty_index_is_an_error_not_an_ungrounded_draft(tmp_path) -> None:
    r = run_cli(Settings(data_dir=tmp_path), "-s", "pension", "-m", PENSION_Q, "--writer", "template")
    assert r.returncode == 1 and "copilot ingest" in r.stderr
