"""Post-processing of model output (copilot/drafting/cleanup.py)."""

from __future__ import annotations

from copilot.drafting.cleanup import (
    clean_model_text,
    truncate_at_sentence,
    uses_citation_as_value,
)


def test_english_chatter_markdown_and_labels_are_removed() -> None:
    raw = (
        "Sure! Here is a draft reply for the customer:\n\n"
        "**回复：** 您好，这款产品风险等级为R2[1]，不承诺收益[5]。This is a very nice product for you.\n"
        "- 理财非存款、产品有风险、投资须谨慎。\n```\ncode\n```"
    )
    assert clean_model_text(raw, n_sources=2, max_chars=200) == (
        "您好，这款产品风险等级为R2[1]，不承诺收益。\n理财非存款、产品有风险、投资须谨慎。"
    )


def test_codes_and_units_survive() -> None:
    text = "您好，QH-WM-R2-002 在App里可以查看，C2客户适合R2，T+3到账。"
    assert clean_model_text(text, n_sources=0, max_chars=200) == text


def test_acknowledging_the_instructions_is_dropped() -> None:
    assert clean_model_text("好的，我明白了。您好，已为您查询。", 0, 100) == "您好，已为您查询。"


def test_truncation_prefers_a_sentence_end_and_keeps_its_citation() -> None:
    text = "第一句话说完了[1]。第二句话也说完了[2]。第三句话很长很长很长很长很长"
    assert truncate_at_sentence(text, 24) == "第一句话说完了[1]。第二句话也说完了[2]。"
    assert truncate_at_sentence("没有句号的一整段话" * 5, 10).endswith("…")


def test_copied_source_labels_are_removed() -> None:
    label = "薪享月月盈固收类理财产品（代…·业绩比较基准及测算依据"
    raw = f"{label}：业绩比较基准：年化2.10%-2.70%[1]。"
    assert clean_model_text(raw, 1, 200, echoes=(label,)) == "业绩比较基准：年化2.10%-2.70%[1]。"


def test_source_numbers_used_as_values_are_detected() -> None:
    assert uses_citation_as_value("周末网点将举办一场户外活动，时间是[1]，地点是[2]。")
    assert not uses_citation_as_value("存款保险50万元以内全额偿付[1]。")
