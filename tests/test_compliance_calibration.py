"""Verdict calibration, one case per category: ``revise`` with a usable text wherever a safe fix
exists, ``block`` where none does (docs/compliance.md, "Verdict calibration")."""

from __future__ import annotations

from copilot.compliance import check
from copilot.domain import CheckContext

D = "理财非存款、产品有风险、投资须谨慎。"
PP_WARNING = "过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎。"


def revised(text: str, **ctx: object) -> str:
    v = check(text, CheckContext(**ctx))
    assert v.verdict == "revise", [(f.rule, f.severity, f.text) for f in v.findings]
    assert v.revised is not None and check(v.revised, CheckContext(**ctx)).verdict == "pass"
    return v.revised


def test_a_products_own_benchmark_given_bare_becomes_benchmark_wording_with_its_basis() -> None:
    out = revised("稳盈180天年化2.30%-2.90%，1万元起购。" + D)
    assert out.startswith("稳盈180天业绩比较基准为年化2.30%-2.90%，1万元起购。")
    assert "以中债综合财富（1-3年）指数近三年年化收益率为基础" in out  # the sheet's basis
    assert "业绩比较基准不代表产品未来表现，不构成收益承诺" in out


def test_a_benchmark_given_as_expected_return_is_reworded() -> None:
    out = revised("薪享月月盈预期年化2.10%-2.70%，持有满30天可赎回。" + D, product_codes=["QH-WM-R2-003"])
    assert "预期" not in out and "业绩比较基准为年化2.10%-2.70%" in out


def test_a_figure_that_is_not_the_benchmark_still_blocks() -> None:
    v = check("稳盈180天年化3.5%，1万元起购。" + D)
    assert v.verdict == "block" and any(f.category == "expected_return" for f in v.findings)


def test_a_bare_figure_without_a_product_still_blocks() -> None:
    assert check("这款理财年化3.5%，1万元起购。" + D).verdict == "block"


def test_a_missing_disclosure_is_appended() -> None:
    assert revised("稳盈180天的风险等级是R2，1万元起购。").endswith(D)


def test_pii_is_masked() -> None:
    assert "138****5678" in revised("有问题打我电话13812345678。")


def test_a_replaceable_superlative_is_replaced_and_an_absolute_one_blocks() -> None:
    assert "最划算" not in revised("周五影票日，本月最划算的观影方式！")
    assert check("我们的信用卡权益全国第一。").verdict == "block"


def test_past_performance_with_a_period_but_no_warning_gets_the_warning() -> None:
    out = revised("天天利2026年1月1日至3月31日年化1.8%。" + D)
    assert PP_WARNING in out


def test_past_performance_without_a_period_blocks() -> None:
    assert check("睿享平衡去年涨了8%。" + D).verdict == "block"


def test_interest_said_of_an_investment_becomes_return() -> None:
    assert "理财收益" in revised("您这笔理财利息下周到账。" + D)
    out = revised("稳盈180天这半年的利息下周能在App里看到。" + D)
    assert "利息" not in out and "这半年的收益" in out


def test_interest_of_a_product_named_by_its_catalogue_alias_becomes_return() -> None:
    """薪享月月盈 is written 月月盈 (an alias in its sheet): still a named investment product."""
    v = check("月月盈持有满30天就能赎回，利息按净值算。" + D, CheckContext(product_codes=["QH-WM-R2-003"]))
    assert v.verdict == "revise" and v.revised is not None and "收益按净值算" in v.revised


def test_interest_of_a_deposit_is_left_alone() -> None:
    assert check("定期存款的利息到期一次性支付。").verdict == "pass"


def test_categories_without_a_safe_fix_block() -> None:
    cases = {
        "guarantee": "这款理财保本保息，您放心。" + D,
        "deposit_confusion": "这款理财和存款一样安全。" + D,
        "disparagement": "别去他行了，他们快倒闭了。",
        "inducement": "买理财满5万送食用油一桶。" + D,
        "regulator_endorsement": "这款理财是监管部门批准的，绝对没问题。" + D,
    }
    for category, text in cases.items():
        v = check(text)
        assert v.verdict == "block", category
        assert category in {f.category for f in v.findings if f.severity == "block"}, category


def test_an_unsuitable_product_blocks() -> None:
    v = check("推荐您买成长精选。" + D, CheckContext(segment="pension", customer_risk="C2"))
    assert v.verdict == "block" and "suitability" in {f.category for f in v.findings}
