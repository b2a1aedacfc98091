"""Reviewer decisions as labelled examples (copilot/store/labels.py): which label each decision gives,
which decisions cannot become examples and why, and that the export loads as the compliance suite's
own LabelledMessage."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from store_support import *  # noqa: F403
from store_support import checked_payload

from copilot.evaluation.compliance import LabelledMessage
from copilot.evaluation.golden import read_jsonl
from copilot.store import AuditStore, ReviewDecision, ReviewItem, labelled_example

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def finding(category: str, severity: str = "block") -> dict:
    return {"rule": f"{category}-x", "category": category, "severity": severity, "start": 0, "end": 1,
            "text": "x", "message": "m"}


def item(verdict: str, findings: list[dict], decision: ReviewDecision | None, **kw: object) -> ReviewItem:
    return ReviewItem(audit_id="a" * 32, kind="check", rm="rm1", created_at=NOW, segment="pension",
                      text="这款理财稳赚不赔", verdict=verdict, findings=findings, decision=decision, **kw)


def decided(decision: str, verdict: str | None, categories: list[str] | None = None, note: str = "n") -> ReviewDecision:
    return ReviewDecision(review_id="r" * 32, reviewer="comp1", decided_at=NOW, decision=decision,  # type: ignore[arg-type]
                          note=note, expected_verdict=verdict, categories=categories)


@pytest.mark.parametrize(
    ("verdict", "findings", "decision", "want"),
    [
        # correct: the checker's verdict and its counted (block/revise) categories; warnings do not count
        ("block", [finding("guarantee"), finding("disclosure", "revise"), finding("superlative", "warn")],
         decided("correct", "block"), ("block", ["disclosure", "guarantee"])),
        ("pass", [finding("superlative", "warn")], decided("correct", "pass"), ("pass", [])),
        # wrong: the reviewer's verdict; categories left out = the checker's were right
        ("block", [finding("expected_return")], decided("wrong", "revise"), ("revise", ["expected_return"])),
        ("block", [finding("guarantee")], decided("wrong", "pass", []), ("pass", [])),
        ("pass", [], decided("wrong", "block", ["guarantee"]), ("block", ["guarantee"])),
        # the stored text is masked: PII is dropped from the label, a PII-only revise becomes pass
        ("revise", [finding("pii", "revise")], decided("correct", "revise"), ("pass", [])),
        ("revise", [finding("pii", "revise"), finding("disclosure", "revise")], decided("correct", "revise"),
         ("revise", ["disclosure"])),
    ],
)
def test_the_label_of_a_decision(verdict: str, findings: list[dict], decision: ReviewDecision,
                                 want: tuple[str, list[str]]) -> None:
    ex = labelled_example(item(verdict, findings, decision))
    assert isinstance(ex, dict), ex
    assert (ex["expected_verdict"], ex["categories"]) == want
    assert ex["source"] == "review" and ex["note"] == "n" and ex["id"] == "review-" + "a" * 32
    assert ex["checker_verdict"] == verdict
    LabelledMessage.model_validate(ex)


@pytest.mark.parametrize(
    ("verdict", "findings", "decision", "reason"),
    [
        ("block", [finding("guarantee")], None, "尚未复核"),
        ("block", [finding("guarantee")], decided("wrong", None), "未给出正确结论"),
        ("block", [finding("internal")], decided("correct", "block"), "内部错误"),
        ("block", [finding("pii")], decided("correct", "block"), "脱敏"),
    ],
)
def test_decisions_that_cannot_be_examples(verdict: str, findings: list[dict], decision: ReviewDecision | None,
                                           reason: str) -> None:
    got = labelled_example(item(verdict, findings, decision))
    assert isinstance(got, str) and reason in got


def test_context_fields_are_carried() -> None:
    ex = labelled_example(item("block", [finding("suitability")], decided("correct", "block"),
                               channel="group", customer_risk="C2", product_codes=["QH-WM-R4-001"]))
    assert isinstance(ex, dict)
    assert (ex["channel"], ex["customer_risk"], ex["product_codes"]) == ("group", "C2", ["QH-WM-R4-001"])


def test_export_of_a_real_trail_loads_as_the_suite_reads_it(store: AuditStore, tmp_path: Path) -> None:
    ids = [store.record("check", "rm1", checked_payload(t, "pension", channel="moments"))
           for t in ("这款理财保本保收益，稳赚不赔！", "请回电 13812345678", "这款理财收益最高，闭眼买！")]
    store.record_review(ids[0], "comp1", "correct", "拦截正确")
    store.record_review(ids[1], "comp1", "correct")
    store.record_review(ids[2], "comp1", "wrong", "先不判")  # no right verdict given: not an example
    store.record_review(ids[0], "comp2", "wrong", "复核：其实只需修改", "revise", ["guarantee"])  # latest wins
    buf = io.StringIO()
    report = store.export_reviews(buf)
    assert report.written == 2 and sum(report.skipped.values()) == 1
    path = tmp_path / "reviews.jsonl"
    path.write_text(buf.getvalue(), encoding="utf-8")
    examples = read_jsonl(path, LabelledMessage)
    assert [e.id for e in examples] == [f"review-{ids[0]}", f"review-{ids[1]}"]  # chain order of the items
    assert (examples[0].expected_verdict, examples[0].categories) == ("revise", ["guarantee"])
    assert examples[0].channel == "moments" and examples[0].segment == "pension"
    assert examples[1].expected_verdict == "pass" and "13812345678" not in examples[1].text
