"""Fact extraction and grounding: what counts as a claim, and when a source backs it."""

from __future__ import annotations

from copilot.domain import Citation
from copilot.evaluation.grounding import (
    check_grounding,
    extract_facts,
    has_disclosure,
    markers,
    product_mentions,
    resolve_citation,
)

ALIASES = {"QH-WM-R2-002": ["安享养老"], "QH-DEP-003": ["特定养老储蓄"]}


def keys(text: str) -> set[str]:
    return {f.key for f in extract_facts(text)}


def test_figures_compare_by_value_and_unit():
    assert keys("年化2.9%") == keys("年化2.90%")
    assert keys("1万元起存") == keys("10000元起存")
    assert keys("３．５％") == keys("3.5%")  # full-width
    assert "30天" in keys("持有满30天") and "5年" in keys("存5年")


def test_range_yields_both_ends_and_markers_are_not_facts():
    assert {"2.9%", "3.8%"} <= keys("业绩比较基准为年化2.90%-3.80%[1]")
    assert keys("见来源[2]") == set()


def test_dates_times_and_risk_levels():
    got = keys("2026-03-01起，每周二07:00放券，风险等级R2，C2客户")
    assert {"2026-3-1", "7:00", "R2"} <= got
    assert not any(k.startswith("C") for k in got)  # the customer's level is no product fact


def test_grounded_when_every_fact_is_in_a_source():
    source = "安享养老业绩比较基准年化2.90%-3.80%，持有满365天，风险等级R2。"
    g = check_grounding("安享养老基准2.9%-3.8%，R2[1]", [source], ALIASES)
    assert g.ok, g.ungrounded


def test_invented_figure_is_ungrounded():
    g = check_grounding("安享养老年化能到4.5%[1]", ["安享养老业绩比较基准年化2.90%-3.80%"], ALIASES)
    assert [f.text for f in g.ungrounded] == ["4.5%"]


def test_figure_echoed_from_the_customer_is_exempt():
    g = check_grounding(
        "3.5%在基准范围内[1]", ["基准年化2.90%-3.80%"], ALIASES, customer_text="能拿到3.5%吗？"
    )
    assert g.ok


def test_product_named_without_a_source_naming_it():
    g = check_grounding("可以看看特定养老储蓄[1]", ["大额存单20万元起存"], ALIASES)
    assert [f.key for f in g.ungrounded] == ["QH-DEP-003"]
    assert check_grounding("可以看看特定养老储蓄[1]", ["青禾银行特定养老储蓄"], ALIASES).ok
    assert product_mentions("买qh-wm-r2-002", ALIASES) == {"QH-WM-R2-002"}


def test_disclosure_ignores_punctuation_and_width():
    assert has_disclosure("……理财非存款，产品有风险，投资须谨慎！")
    assert has_disclosure("理财非存款、产品有风险、投资须谨慎")
    assert not has_disclosure("产品有风险，投资须谨慎")


def test_markers():
    assert markers("一[1]二[2]三[12]") == {1, 2, 12}


def _citation(**kw) -> Citation:
    base = {
        "n": 1,
        "doc_id": "product-qh-dep-003",
        "chunk_id": "c1",
        "title": "青禾银行特定养老储蓄",
        "source_path": "knowledge/products/QH-DEP-003.md",
        "text": "特定养老储蓄是面向年满35周岁客户的长期储蓄存款。",
    }
    return Citation(**{**base, **kw})


def test_resolve_citation_against_the_real_file():
    from copilot.config import CHECKOUT

    passage = "特定养老储蓄是面向年满35周岁客户的长期储蓄存款。"
    assert resolve_citation(_citation(), passage, CHECKOUT) == ""
    assert "不在索引" in resolve_citation(_citation(), None, CHECKOUT)
    assert "不一致" in resolve_citation(_citation(), "别的文字", CHECKOUT)
    assert "不存在" in resolve_citation(_citation(source_path="knowledge/nope.md"), passage, CHECKOUT)
    assert "id 不符" in resolve_citation(_citation(doc_id="product-qh-dep-001"), passage, CHECKOUT)
