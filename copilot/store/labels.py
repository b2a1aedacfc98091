"""Reviewer decisions as labelled examples in the schema of ``eval/compliance/messages.jsonl``.

The label is the reviewer's: for ``correct`` the checker's verdict and the categories of its
block/revise findings (what the compliance suite counts); for ``wrong`` the verdict and categories
the reviewer gave (categories left out = the checker's were right, only the verdict was wrong).
The text is the stored, PII-masked one. Masking is the fix for a PII finding, so ``pii`` is dropped
from a label and a revise that only PII caused becomes ``pass`` for the masked text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from copilot.store.reviews import ReviewItem

SOURCE = "review"


@dataclass(frozen=True)
class LabelExport:
    """How many decided items became examples, and why the others did not."""

    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def labelled_example(item: ReviewItem) -> dict[str, Any] | str:
    """The example for a decided item, or the (Chinese) reason it cannot be one."""
    # Imported here: the evaluation package is heavy and the store must stay quick to import.
    from copilot.evaluation.compliance import COUNTED_SEVERITIES

    d = item.decision
    if d is None:
        return "尚未复核"
    if not item.text.strip():
        return "记录中没有可标注的文本"
    if d.expected_verdict is None:
        return "复核为“有误”但未给出正确结论"
    checker = sorted({str(f.get("category")) for f in item.findings
                      if f.get("severity") in COUNTED_SEVERITIES and f.get("category")})
    if d.categories is None and "internal" in checker:
        return "检查程序内部错误的结论不能作为标注"
    verdict = d.expected_verdict
    categories = [] if verdict == "pass" else sorted(set(d.categories if d.categories is not None else checker))
    if "pii" in categories:
        categories.remove("pii")
        if not categories:
            if verdict == "block":
                return "个人信息已脱敏，无法还原拦截依据"
            verdict = "pass"
    example: dict[str, Any] = {
        "id": f"review-{item.audit_id}",
        "text": item.text,
        "channel": item.channel,
        "segment": item.segment,
        "direction": item.direction,
        "expected_verdict": verdict,
        "categories": categories,
    }
    if item.product_codes:
        example["product_codes"] = item.product_codes
    if item.customer_risk:
        example["customer_risk"] = item.customer_risk
    example.update(
        source=SOURCE,
        note=d.note,
        decision=d.decision,
        reviewer=d.reviewer,
        decided_at=d.decided_at.isoformat(),
        audit_id=item.audit_id,
        review_id=d.review_id,
        checker_verdict=item.verdict,
        checker_categories=checker,
    )
    _validate(example)
    return example


def _validate(example: dict[str, Any]) -> None:
    """The example must load as the compliance suite's LabelledMessage (same schema, same checks)."""
    from copilot.evaluation.compliance import LabelledMessage

    LabelledMessage.model_validate(example)


def write_examples(items: Iterable[ReviewItem], fh: IO[str]) -> LabelExport:
    """One JSON line per example; returns the counts (skips grouped by reason)."""
    written, skipped = 0, {}
    for item in items:
        got = labelled_example(item)
        if isinstance(got, str):
            skipped[got] = skipped.get(got, 0) + 1
            continue
        fh.write(json.dumps(got, ensure_ascii=False) + "\n")
        written += 1
    return LabelExport(written=written, skipped=skipped)
