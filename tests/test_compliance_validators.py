"""Named validators through check(): suitability against the real product catalogue, the risk
disclosure with punctuation variants, past performance with and without period and warning."""

from __future__ import annotations

import pytest

from copilot.compliance import check
from copilot.domain import CheckContext
from copilot.knowledge import product_catalog

DISCLOSURE = "理财非存款、产品有风险、投资须谨慎。"
WARNING = "过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎。"


def rules_of(text: str, **ctx: object) -> dict[str, str]:
    """rule id -> severity of what check() found."""
    return {f.rule: f.severity for f in check(text, CheckContext(**ctx)).findings}


def test_the_catalogue_has_the_codes_these_tests_use() -> None:
    catalog = product_catalog()
    assert catalog["QH-FD-R4-001"].risk_level == "R4"
    assert catalog["QH-WM-R3-001"].risk_level == "R3"
    assert catalog["QH-WM-R1-001"].risk_level == "R1"
    assert catalog["QH-DEP-002"].product_type == "deposit"


@pytest.mark.parametrize(("level", "blocked"), [("C1", True), ("C3", True), ("C4", False), ("C5", False)])
def test_risk_mismatch_compares_product_and_customer_levels(level: str, blocked: bool) -> None:
    found = rules_of("推荐这只基金。" + DISCLOSURE, customer_risk=level, product_codes=["QH-FD-R4-001"])
    assert ("suitability-risk-mismatch" in found) is blocked


def test_a_product_code_written_in_the_text_counts_for_suitability() -> None:
    v = check("您看看QH-FD-R4-001。" + DISCLOSURE, CheckContext(customer_risk="C2"))
    (finding,) = [f for f in v.findings if f.rule == "suitability-risk-mismatch"]
    assert finding.text == "QH-FD-R4-001" and "R4" in finding.message and "C2" in finding.message


def test_a_product_short_name_counts_too() -> None:
    v = check("成长精选可以配一点。" + DISCLOSURE, CheckContext(customer_risk="C2"))
    (finding,) = [f for f in v.findings if f.rule == "suitability-risk-mismatch"]
    assert finding.text == "成长精选"


def test_advising_against_an_unsuitable_product_is_not_a_recommendation() -> None:
    text = "成长精选风险等级R4，高于您C2的风险承受能力，不建议购买。"
    assert rules_of(text, customer_risk="C2") == {}


def test_pension_ceiling_blocks_above_r2_unless_the_customers_level_allows() -> None:
    text = "阿姨，这款可以了解一下。" + DISCLOSURE
    assert "suitability-segment-ceiling" in rules_of(text, segment="pension", product_codes=["QH-WM-R3-001"])
    allowed = rules_of(text, segment="pension", customer_risk="C3", product_codes=["QH-WM-R3-001"])
    assert "suitability-segment-ceiling" not in allowed
    assert rules_of(text, segment="pension", product_codes=["QH-WM-R2-002"]) == {}
    assert rules_of(text, segment="payroll", product_codes=["QH-WM-R3-001"]) == {}


def test_unknown_product_codes_are_reported_not_guessed() -> None:
    text = "这款给您参考。" + DISCLOSURE
    assert rules_of(text, product_codes=["QH-WM-R9-999"]) == {"suitability-unknown-product": "warn"}
    strict = check(text, CheckContext(customer_risk="C3", product_codes=["QH-WM-R9-999"]))
    assert strict.verdict == "block"
    assert "QH-WM-R9-999" in strict.findings[0].message


def test_a_non_deposit_product_code_requires_the_disclosure() -> None:
    v = check("这款起购1万元。", CheckContext(product_codes=["QH-WM-R2-001"]))
    assert v.verdict == "revise" and v.revised == "这款起购1万元。" + DISCLOSURE
    assert check("大额存单20万起存。", CheckContext(product_codes=["QH-DEP-002"])).verdict == "pass"


@pytest.mark.parametrize(
    "disclosure",
    [
        "理财非存款、产品有风险、投资须谨慎。",
        "理财非存款，产品有风险，投资须谨慎！",
        "理财非存款 产品有风险 投资需谨慎",
    ],
)
def test_disclosure_tolerates_punctuation(disclosure: str) -> None:
    assert check("天天利1元起购。" + disclosure).verdict == "pass"


def test_past_performance_with_period_but_no_warning_is_revised() -> None:
    text = "睿享平衡2025年1月1日至2025年12月31日年化收益率3.6%。" + DISCLOSURE
    v = check(text)
    assert v.verdict == "revise"
    assert {f.rule for f in v.findings} == {"past-performance-unqualified"}
    assert v.revised == text + WARNING
    assert check(v.revised).verdict == "pass"


def test_past_performance_without_a_period_is_blocked() -> None:
    v = check("睿享平衡去年收益5.6%。" + WARNING + DISCLOSURE)
    assert v.verdict == "block"
    assert [f.rule for f in v.findings] == ["past-performance-unqualified"]
    assert "起止日期" in v.findings[0].message
