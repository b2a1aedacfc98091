"""Approved knowledge must get through the guardrail. Every approved script's 话术 (compliance
signed it off) and every product sheet's 业绩比较基准 and 风险揭示 sections may be revised (the
disclosure appended) but never blocked: a block here is a false positive in the rules, or a real
problem in the script that a person must look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copilot.compliance import check
from copilot.config import CHECKOUT, get_settings
from copilot.domain import CheckContext, Verdict
from copilot.drafting.scripts import load_script
from copilot.knowledge import product_catalog, read_document

RULES = CHECKOUT / "guardrails"
KNOWLEDGE = Path(get_settings().knowledge_dir)  # where check() reads the product catalogue
SCRIPTS = sorted((KNOWLEDGE / "scripts").glob("*.md"))
PRODUCTS = sorted((KNOWLEDGE / "products").glob("*.md"))
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.M)
_PIECE = re.compile(r"[^。；\n]+[。；]?")  # sentences and list items of a sheet section


def sections(body: str) -> dict[str, str]:
    parts = _SECTION.split(body)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def channel_of(tags: list[str], label: str) -> str:
    if "朋友圈" in tags or "朋友圈" in label:
        return "moments"
    if "群发" in tags or "群" in label:
        return "group"
    return "one_to_one"


def matched_customer(product_code: str) -> list[str | None]:
    """No customer risk level, and the level the script's product calls for (R2 -> C2)."""
    product = product_catalog().get(product_code.upper()) if product_code else None
    if product is None or not product.risk_level:
        return [None]
    return [None, "C" + product.risk_level[1:]]


def describe(v: Verdict) -> str:
    return "; ".join(f"{f.rule} [{f.severity}] {f.text!r}" for f in v.findings)


def script_cases() -> list:
    cases = []
    for path in SCRIPTS:
        meta = read_document(path).meta
        script = load_script(path)
        assert script is not None, f"{path.name}: no 话术 section"
        whole = sections(read_document(path).body)["话术"]
        units = [("whole", whole, "")] + [(f"block{n}", b.text, b.label) for n, b in enumerate(script.blocks, 1)]
        for segment in meta.segments:
            for risk in matched_customer(meta.product_code):
                for name, text, label in units:
                    ctx = CheckContext(
                        segment=segment,
                        customer_risk=risk,
                        product_codes=[meta.product_code] if meta.product_code else [],
                        channel=channel_of(meta.tags, label),
                    )
                    case_id = f"{path.stem}-{name}-{segment}-{risk or 'norisk'}"
                    cases.append(pytest.param(text, ctx, id=case_id))
    return cases


def product_cases() -> list:
    cases = []
    for path in PRODUCTS:
        doc = read_document(path)
        code = doc.meta.product_code
        ctx = CheckContext(segment=doc.meta.segments[0], product_codes=[code])
        for title, text in sections(doc.body).items():
            if not title.startswith(("业绩比较基准", "风险揭示")):
                continue
            cases.append(pytest.param(text, ctx, id=f"{code}-{title}"))
            for n, piece in enumerate(_PIECE.findall(text), 1):
                piece = piece.strip(" -")
                if piece:
                    cases.append(pytest.param(piece, ctx, id=f"{code}-{title}-{n}"))
        if doc.meta.benchmark_basis:
            cases.append(pytest.param(doc.meta.benchmark_basis, ctx, id=f"{code}-benchmark_basis"))
    return cases


SCRIPT_CASES = script_cases()
PRODUCT_CASES = product_cases()


def test_the_knowledge_base_is_actually_covered() -> None:
    assert len(SCRIPTS) >= 20 and len(PRODUCTS) >= 10
    assert len(SCRIPT_CASES) > len(SCRIPTS)
    assert any("业绩比较基准" in p.id for p in PRODUCT_CASES)
    assert any("风险揭示" in p.id for p in PRODUCT_CASES)


@pytest.mark.parametrize(("text", "ctx"), SCRIPT_CASES)
def test_approved_script_passes_or_is_revised(text: str, ctx: CheckContext) -> None:
    v = check(text, ctx, rules_dir=RULES)
    assert v.verdict in {"pass", "revise"}, describe(v)
    if v.verdict == "revise":
        assert v.revised is not None and check(v.revised, ctx, rules_dir=RULES).verdict == "pass"


@pytest.mark.parametrize(("text", "ctx"), PRODUCT_CASES)
def test_product_sheet_benchmark_and_risk_text_is_never_blocked(text: str, ctx: CheckContext) -> None:
    v = check(text, ctx, rules_dir=RULES)
    assert v.verdict != "block", describe(v)


def test_a_broken_script_would_be_caught() -> None:
    """The cases above can fail: the same kind of text with a promise in it is blocked."""
    text, ctx = SCRIPT_CASES[0].values
    v = check(str(text) + "这款理财保本保息，稳赚不赔。", ctx, rules_dir=RULES)
    assert v.verdict == "block"
