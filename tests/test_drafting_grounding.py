"""The drafting grounding check: every figure a draft states must come from a source."""

from __future__ import annotations

from copilot.drafting.grounding import UNGROUNDED_RULE, extract_facts, ungrounded_findings

SHEET = "青禾理财天天利现金管理类理财产品：七日年化收益率 1.85%（2026-11-30），T+0 快速赎回每日额度 1万元。"


def test_figures_are_found_with_their_spans_in_the_original_text() -> None:
    text = "天天利七日年化１．８５％[1]，每日可取10000元，09:00前到账。"
    facts = extract_facts(text)
    assert [(f.kind, f.key) for f in facts] == [("figure", "1.85%"), ("figure", "10000元"), ("time", "9:00")]
    assert all(text[f.start : f.end] == f.text for f in facts)
    assert facts[0].text == "１．８５％"


def test_the_invented_current_account_rate_is_ungrounded() -> None:
    draft = "活期存款具有高收益的特点，年化收益率通常在3%左右，您可以随时取用。"
    findings = ungrounded_findings(draft, [SHEET])
    assert [(f.rule, f.text, f.severity) for f in findings] == [(UNGROUNDED_RULE, "3%", "revise")]
    assert draft[findings[0].start : findings[0].end] == "3%"


def test_figures_in_sources_or_the_customers_message_are_grounded() -> None:
    draft = "天天利七日年化收益率1.85%，快速赎回每日1万元以内；您说的每月2000元可以先放进去。"
    assert ungrounded_findings(draft, [SHEET], customer_text="我每月能存2000元") == []
    assert [f.text for f in ungrounded_findings(draft, [SHEET])] == ["2000元"]


def test_ranges_and_citation_markers() -> None:
    assert ungrounded_findings("业绩比较基准2.5%-3.5%[2]", ["业绩比较基准：年化2.5%至3.5%"]) == []
    assert [f.key for f in extract_facts("见[12]。")] == []
