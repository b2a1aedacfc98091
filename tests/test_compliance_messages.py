"""The labelled set eval/compliance/messages.jsonl: its format is a contract with the evaluation
harness (`copilot eval --suite compliance`), so it is checked here; quality figures live in bench/."""

from __future__ import annotations

import json
from collections import Counter

from copilot.compliance import CATEGORIES
from copilot.config import CHECKOUT
from copilot.domain import CUSTOMER_RISK_LEVELS
from copilot.segments import segment_ids

PATH = CHECKOUT / "eval" / "compliance" / "messages.jsonl"
REQUIRED = {"id", "text", "channel", "segment", "direction", "expected_verdict", "categories"}
OPTIONAL = {"customer_risk", "product_codes"}


def rows() -> list[dict]:
    return [json.loads(line) for line in PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_line_has_the_agreed_fields_and_values() -> None:
    data = rows()
    assert len(data) >= 220
    assert len({r["id"] for r in data}) == len(data)
    for r in data:
        assert REQUIRED <= set(r) <= REQUIRED | OPTIONAL, r["id"]
        assert r["text"].strip()
        assert r["channel"] in {"one_to_one", "group", "moments"}
        assert r["segment"] in segment_ids()
        assert r["direction"] in {"inbound", "outbound"}
        assert r["expected_verdict"] in {"pass", "revise", "block"}
        assert set(r["categories"]) <= set(CATEGORIES) - {"internal"}
        assert (r["expected_verdict"] == "pass") == (not r["categories"]), r["id"]
        assert r.get("customer_risk") in {None, *CUSTOMER_RISK_LEVELS}
        assert isinstance(r.get("product_codes", []), list)


def test_the_set_is_balanced_and_covers_every_category_and_channel() -> None:
    data = rows()
    violating = sum(r["expected_verdict"] != "pass" for r in data)
    assert 0.4 <= violating / len(data) <= 0.6
    covered = Counter(c for r in data for c in r["categories"])
    assert set(covered) == set(CATEGORIES) - {"internal"}
    assert min(covered.values()) >= 6
    assert {r["channel"] for r in data} == {"one_to_one", "group", "moments"}
    assert {r["direction"] for r in data} == {"inbound", "outbound"}


def test_the_hard_compliant_cases_are_in_the_set() -> None:
    compliant = [r["text"] for r in rows() if r["expected_verdict"] == "pass"]
    markers = ("5折", "限量", "先到先得", "本产品不保本", "存款保险", "理财非存款、产品有风险、投资须谨慎")
    for marker in markers:
        assert any(marker in t for t in compliant), marker
    assert "理财非存款、产品有风险、投资须谨慎。" in compliant  # the disclosure sentence on its own
