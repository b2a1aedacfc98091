"""Approved scripts (knowledge/scripts) as the template writer reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.domain import RMProfile
from copilot.drafting.scripts import (
    channel_vocabulary,
    fill_placeholders,
    load_script,
    placeholder_values,
    renumber_lists,
    specific_tags,
)

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


def test_a_post_title_in_brackets_is_kept() -> None:
    text = "🍜【周三半价日】10:00开抢！\n📅 时间：【日期】\n报名请接龙。"
    assert fill_placeholders(text, {}) == "🍜【周三半价日】10:00开抢！\n报名请接龙。"


def test_renumber_lists_closes_gaps() -> None:
    assert renumber_lists("1. 甲\n3. 乙\n\n说明\n2、丙") == "1. 甲\n2. 乙\n\n说明\n1、丙"


@pytest.mark.parametrize(("branch", "short"), [("青禾银行城南支行", "城南支行"), ("城北网点", "城北网点")])
def test_placeholder_values_from_rm_profile(branch: str, short: str) -> None:
    values = placeholder_values(RMProfile(name="小林", branch=branch), Settings().prompts_dir)
    assert values["姓名"] == "小林" and values["姓"] == "林" and values["网点"] == short


def test_channels_and_reserved_purposes_are_read_from_the_scripts() -> None:
    vocab = channel_vocabulary(Settings().prompts_dir)
    assert _script("pen-05").channels(vocab) == {"group"}  # 社保养老群·防范养老诈骗提醒
    assert _script("br-01").channels(vocab) == {"group", "moments"}  # 网周社群和朋友圈预告
    assert _script("br-07").channels(vocab) == {"moments"}
    assert _script("pen-03").channels(vocab) == {"one_to_one"}  # an answer to a customer's question
    cc05 = _script("cc-05")
    assert [sorted(cc05.block_channels(b, vocab)) for b in cc05.blocks] == [["group"], ["one_to_one"]]
    # a welcome is reserved for the welcome scenario, by its tags or its label
    pen04, cc06 = _script("pen-04"), _script("cc-06")
    assert pen04.usable_blocks(vocab, ["one_to_one"]) == []
    assert pen04.usable_blocks(vocab, ["one_to_one"], purposes=["问候"]) == list(pen04.blocks)
    assert [b.label for b in cc06.usable_blocks(vocab, ["one_to_one"])] == ["代领请求"]
    # nothing written for one-to-one can become a post
    assert pen04.usable_blocks(vocab, ["group", "moments"], purposes=["问候"]) == []


def test_specific_tags_name_a_subject_segment_words_do_not() -> None:
    tags = specific_tags(SCRIPTS.parent, generic={"存款", "理财"})
    assert {"乒乓球", "代领", "周五影票日", "养老理财"} <= tags
    assert not tags & {"信用卡", "社保养老", "代发工资", "网周", "群发", "存款", "理财", "R2"}


def test_a_broken_channel_file_names_the_file(tmp_path: Path) -> None:
    from copilot.drafting.personas import PromptContentError

    (tmp_path / "script_channels.yaml").write_text("group: 群发\n", encoding="utf-8")
    with pytest.raises(PromptContentError, match=r"script_channels\.yaml"):
        channel_vocabulary(tmp_path)
    assert channel_vocabulary(tmp_path / "missing").group  # no file: built-in defaults
