"""The embedded model's opening (lead.py): greeting and exact facts written before the model starts,
streamed first, joined with what the model writes after it (finish.py)."""

from __future__ import annotations

import pytest
from test_drafting_prompting import _task

from copilot.config import Settings
from copilot.drafting.attempts import first_attempt
from copilot.drafting.finish import finish_model_draft, says_something_new
from copilot.drafting.lead import lead_for, without_greeting
from copilot.drafting.prompting import render_messages
from copilot.drafting.writers import WriterError

LOCAL = first_attempt("local", has_script=True)


def test_the_lead_states_the_named_products_exact_facts(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "薪享月月盈一个月能赚多少？", "payroll", "C3", ["QH-WM-R2-003"])
    lead = lead_for(brief, LOCAL, kb_settings)
    assert lead is not None and lead.greeting == "您好，"
    assert "业绩比较基准为年化2.10%-2.70%" in lead.facts and "不构成收益承诺" in lead.facts
    assert "[" in lead.facts and "\n" not in lead.text
    assert "理财非存款" not in lead.text  # the disclosure stays at the end of the draft


def test_only_the_embedded_model_gets_a_lead(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "薪享月月盈一个月能赚多少？", "payroll", "C3", ["QH-WM-R2-003"])
    assert lead_for(brief, first_attempt("openai", True), kb_settings) is None
    assert lead_for(brief, first_attempt("template", True), kb_settings) is None
    assert lead_for(brief, LOCAL, kb_settings.model_copy(update={"local_model_lead": False})) is None


def test_a_question_without_products_gets_the_greeting_only(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "理财和存款是不是一回事？我分不太清", "pension", "C2")
    lead = lead_for(brief, LOCAL, kb_settings)
    assert lead is not None and lead.facts == "" and lead.greeting.endswith("，")


def test_the_model_is_told_of_the_lead_and_not_shown_the_sheet_it_states(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "薪享月月盈一个月能赚多少？", "payroll", "C3", ["QH-WM-R2-003"])
    local = render_messages(brief, LOCAL, kb_settings)
    hosted = render_messages(brief, first_attempt("openai", True), kb_settings)
    assert "系统已写在你的回复前面" in local[0][1] and "系统已写在你的回复前面" not in hosted[0][1]
    assert "2.10%" not in local[0][1]  # its facts are in the lead, not re-read by the model
    assert len(local[0][1]) < len(hosted[0][1])
    assert local[-1] == ("human", "薪享月月盈一个月能赚多少？")


def test_the_draft_joins_lead_and_continuation_without_a_second_greeting(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "薪享月月盈一个月能赚多少？", "payroll", "C3", ["QH-WM-R2-003"])
    lead = lead_for(brief, LOCAL, kb_settings)
    assert lead is not None
    text = finish_model_draft("您好！具体每个月能拿多少要看净值表现，可以在手机银行查看。", brief, kb_settings, lead)
    assert text.startswith(lead.text) and text.count("您好") == 1
    assert "要看净值表现" in text and text.count("2.10%-2.70%") == 1
    assert text.rstrip().endswith("理财非存款、产品有风险、投资须谨慎。")


def test_a_continuation_that_echoes_the_question_is_unusable(kb_settings: Settings) -> None:
    brief = _task(kb_settings, "理财和存款是不是一回事？我分不太清", "pension", "C2")
    lead = lead_for(brief, LOCAL, kb_settings)
    assert not says_something_new("我最近在想，理财和存款是不是一回事？我分不太清。", brief)
    assert says_something_new("理财不是存款，收益随所投资产变化，本金也可能亏损。", brief)
    with pytest.raises(WriterError):
        finish_model_draft("我最近在想，理财和存款是不是一回事？我分不太清。", brief, kb_settings, lead)


def test_without_greeting() -> None:
    from copilot.drafting.lead import Lead

    lead = Lead("阿姨，")
    assert without_greeting("阿姨，您好！这款产品……", lead) == "这款产品……"
    assert without_greeting("您好，这款产品……", lead) == "这款产品……"
    assert without_greeting("这款产品……", lead) == "这款产品……"


def test_the_lead_names_every_product_in_scope_with_what_it_is(kb_settings: Settings) -> None:
    """A product the question implies (随时取 → 天天利) is named, with its type, whatever the model writes."""
    brief = _task(kb_settings, "工资刚到账，有什么比活期收益高一点又能随时取的？", "payroll", "C3")
    lead = lead_for(brief, LOCAL, kb_settings)
    assert lead is not None and "天天利" in lead.facts and "是理财产品，不是存款，风险等级R1" in lead.facts
    deposits = _task(kb_settings, "我在你们银行存了60万，银行倒闭了能赔多少？", "pension", "C2")
    lead = lead_for(deposits, LOCAL, kb_settings)
    assert lead is not None and "是存款" in lead.facts and "理财产品" not in lead.facts


def test_the_embedded_model_reads_the_main_point_of_the_guidance_only(kb_settings: Settings) -> None:
    """Its prompt beyond the cached prefix is every token it reads before its first (~20 ms each)."""
    from copilot.drafting.prompting import LOCAL_GUIDANCE_CHARS

    brief = _task(kb_settings, "我买的睿享平衡最近跌了，要不要赶紧赎回？", "pension", "C3", ["QH-WM-R3-001"])
    local = render_messages(brief, LOCAL, kb_settings)[0][1]
    hosted = render_messages(brief, first_attempt("openai", True), kb_settings)[0][1]
    said = local.split("这次回复要：")[1].split("\n")[0]
    assert 0 < len(said) <= LOCAL_GUIDANCE_CHARS and said[-1] not in "，；…"
    assert hosted.split("这次回复要：")[1].split("\n")[0].startswith(said)
    assert len(local) < len(hosted)
