"""Suitability (《金融机构产品适当性管理办法》第十二、十三条): a product's risk level (R1-R5, from
the product catalogue) above the customer's tolerance (C1-C5), a segment ceiling (pension customers),
and product codes the catalogue does not know — said plainly rather than guessed."""

from __future__ import annotations

from copilot.compliance.facts import ProductRef
from copilot.compliance.matcher import Hit
from copilot.compliance.validators.base import RuleRun, hits_only_anchor
from copilot.domain import risk_rank


def _describe(ref: ProductRef) -> str:
    name = ref.product.name if ref.product else ""
    return f"{ref.code}（{name}）" if name else ref.code


def _advised_against(run: RuleRun, ref: ProductRef) -> bool:
    """The sentence naming the product (the whole message for a context-only product) advises
    against it: "成长精选风险等级R4，高于您的风险承受能力，不建议购买" is not a recommendation."""
    return run.facts.sentence_mentions(run.rule.skip_sentences_with, ref.start, ref.end)


def risk_mismatch(run: RuleRun) -> list[Hit]:
    level = run.facts.ctx.customer_risk
    if not level:
        return []
    customer = risk_rank(level)
    hits: list[Hit] = []
    for ref in run.facts.investment_products:
        product_level = ref.product.risk_level if ref.product else ""
        if product_level and risk_rank(product_level) > customer:
            if _advised_against(run, ref):
                continue
            start, end = run.anchor(ref.start, ref.end)
            message = (
                f"{_describe(ref)}风险等级 {product_level} 高于客户风险承受能力 {level.upper()}，"
                f"不得向该客户推荐。{run.rule.message}"
            )
            hits.append(Hit(start, end, message=message))
    return hits


def segment_ceiling(run: RuleRun) -> list[Hit]:
    ctx = run.facts.ctx
    ceilings: dict[str, str] = run.param("ceilings")
    if ctx.segment is None or ctx.segment.value not in ceilings:
        return []
    ceiling = ceilings[ctx.segment.value]
    customer = risk_rank(ctx.customer_risk) if ctx.customer_risk else None
    hits: list[Hit] = []
    for ref in run.facts.investment_products:
        product_level = ref.product.risk_level if ref.product else ""
        if not product_level or risk_rank(product_level) <= risk_rank(ceiling):
            continue
        if customer is not None and risk_rank(product_level) <= customer:
            continue  # the customer's own assessed tolerance allows it
        if _advised_against(run, ref):
            continue
        start, end = run.anchor(ref.start, ref.end)
        message = f"{_describe(ref)}风险等级 {product_level} 超过该客群上限 {ceiling}。{run.rule.message}"
        hits.append(Hit(start, end, message=message))
    return hits


def unknown_product(run: RuleRun) -> list[Hit]:
    ctx = run.facts.ctx
    strict = bool(ctx.customer_risk) or (
        ctx.segment is not None and ctx.segment.value in run.params.get("strict_segments", [])
    )
    severity = None if strict else run.params.get("severity_without_risk", "warn")
    hits: list[Hit] = []
    for ref in run.facts.unknown_products:
        start, end = run.anchor(ref.start, ref.end) if ref.end else (0, 0)
        message = f"产品代码 {ref.code} 不在产品库中，无法核实其风险等级。{run.rule.message}"
        hits.append(Hit(start, end, severity=severity, message=message))
    return hits


VALIDATORS = {
    "suitability.risk_mismatch": risk_mismatch,
    "suitability.segment_ceiling": segment_ceiling,
    "suitability.unknown_product": unknown_product,
}

# The hits of these rules (the words 理财, 基金 …) only anchor a finding about a product.
PRECHECKS = {name: hits_only_anchor(validator) for name, validator in VALIDATORS.items()}
