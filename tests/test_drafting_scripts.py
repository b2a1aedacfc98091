"""Approved scripts (knowledge/scripts) as the template writer reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.domain import RMProfile
from copilot.drafting.scripts import fill_placeholders, load_script, placeholder_values, renumber_lists

SCRIPTS = Path(__file__).resolve().parent.parent / "knowledge" / "scripts"


def _script(prefix: str):
    (path,) = SCRIPTS.glob(f"{prefix}*.md")
    script = load_script(path)
    assert script is not None
    return script


def test_every_script_in_the_knowledge_base_parses() -> None:
    paths = sorted(SCRIPTS.glob("*.md"))
    assert paths
    for path in paths:
        script = load_script(path)
        assert script is not None, path
        assert script.blocks and all(b.text.strip() for b in script.blocks), path
        assert not any(b.text.startswith("“") or b.text.endswith("”") for b in script.blocks), path


def test_labelled_blocks_and_inner_quotes() -> None:
    cc05 = _script("cc-05")
    assert [b.label for b in cc05.blocks] == ["群内回复", "私聊跟进"]
    assert "App“权益”页" in cc05.blocks[0].text  # a quote inside a reply does not end it
    cc06 = _script("cc-06")
    assert cc06.block_for("能帮我代领一张吗？").label == "代领请求"
    assert cc06.block_for("你好").label == "新添加问候"


def test_placeholders_are_filled_or_their_sentence_dropped() -> None:
    values = {"称呼": "", "姓名": "小林"}
    text = (
        "@【称呼】 您好，我是【姓名】。本期共【数量】张，很快领完。\n"
        "1️⃣ 打开提醒；\n2️⃣ 下期【日期】再来；\n3️⃣ 看看其他权益。"
    )
    assert fill_placeholders(text, values) == "您好，我是小林。\n1️⃣ 打开提醒；\n2️⃣ 看看其他权益。"


def test_renumber_lists_closes_gaps() -> None:
    assert renumber_lists("1. 甲\n3. 乙\n\n说明\n2、丙") == "1. 甲\n2. 乙\n\n说明\n1、丙"


@pytest.mark.parametrize(("branch", "short"), [("青禾银行城南支行", "城南支行"), ("城北网点", "城北网点")])
def test_placeholder_values_from_rm_profile(branch: str, short: str) -> None:
    values = placeholder_values(RMProfile(name="小林", branch=branch), Settings().prompts_dir)
    assert values["姓名"] == "小林" and values["姓"] == "林" and values["网点"] == short
