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


def test_a_deposit_called_a_wealth_product_is_a_finding() -> None:
    from copilot.drafting.grounding import PRODUCT_TYPE_RULE, product_type_findings

    draft = "活期存款是一种灵活的理财产品，具有高收益的特点。"
    [f] = product_type_findings(draft, ["大额存单"])
    assert (f.rule, f.text) == (PRODUCT_TYPE_RULE, "理财产品")
    assert draft[f.start : f.end] == "理财产品"
    assert product_type_findings("这期大额存单是很稳的理财", ["大额存单"])


def test_deposits_set_apart_from_wealth_products_pass() -> None:
    from copilot.drafting.grounding import product_type_findings

    for ok in (
        "大额存单是存款，不是理财产品，受存款保险保障。",
        "天天利是现金管理类理财产品。理财非存款、产品有风险、投资须谨慎。",
        "存款和理财产品的区别在于是否保本。",
        "您可以把一部分放定期存款。",
        "它和存款的区别是：存款利率事先确定，受存款保险保障；理财净值会波动，不在存款保险范围内。",
        "大额存单不属于理财产品。",
    ):
        assert product_type_findings(ok, ["大额存单"]) == [], ok


INVESTMENTS = ["天天利", "天天利现金管理类理财", "薪享月月盈"]


def test_a_wealth_product_called_a_deposit_is_a_finding() -> None:
    """Written by the embedded model after a lead stating the product is a 理财产品: "天天利是活期存款"."""
    from copilot.drafting.grounding import PRODUCT_TYPE_RULE, product_type_findings

    for bad, word in (
        ("天天利是活期存款，随时可以取出来。", "活期存款"),
        ("薪享月月盈就相当于定期存款，到期拿钱。", "定期存款"),
        ("天天利其实就是存款。", "存款"),
    ):
        [f] = product_type_findings(bad, ["大额存单"], INVESTMENTS)
        assert (f.rule, f.text, bad[f.start : f.end]) == (PRODUCT_TYPE_RULE, word, word), bad


def test_wealth_products_set_apart_from_deposits_pass() -> None:
    from copilot.drafting.grounding import product_type_findings

    for ok in (
        "天天利现金管理类理财是理财产品，不是存款，风险等级R1。",
        "天天利不是存款，不受存款保险保障。",
        "薪享月月盈并非存款。",
        "天天利是理财产品，存款保险不保障它。",
        "想随时取可以放活期存款，也可以了解天天利。",
    ):
        assert product_type_findings(ok, ["大额存单"], INVESTMENTS) == [], ok
