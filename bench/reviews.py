"""Benchmark the review queue over an audit trail of N checks (real checker verdicts, real store).

    .venv/bin/python bench/reviews.py                      # SQLite in a temp folder, 5,000 checks
    .venv/bin/python bench/reviews.py --rows 20000 --db postgresql+psycopg://postgres@127.0.0.1:5432/DB

Fills the trail with checks of the labelled messages (eval/compliance/messages.jsonl, cycled), marks
one flagged item in ten decided, then times a queue page (unfiltered, by category, by segment,
undecided) and the labelled-example export. Figures, not pass/fail. Use a fresh database: the
figures assume the trail holds only what this script wrote.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from copilot.compliance import check  # noqa: E402
from copilot.config import Settings  # noqa: E402
from copilot.domain import CheckContext  # noqa: E402
from copilot.store import AuditStore  # noqa: E402

LABELLED = ROOT / "eval" / "compliance" / "messages.jsonl"


def fill(store: AuditStore, rows: int) -> float:
    messages = [json.loads(x) for x in LABELLED.read_text(encoding="utf-8").splitlines() if x.strip()]
    payloads = []
    for m in messages:
        ctx = CheckContext(segment=m.get("segment"), channel=m.get("channel", "one_to_one"))
        v = check(m["text"], ctx)
        payloads.append({"segment": m.get("segment"), "context": ctx.model_dump(mode="json"), "text": m["text"],
                         "verdict": v, "findings": v.findings, "revised": v.revised})
    start = time.perf_counter()
    for i in range(rows):
        store.record("check", f"rm{i % 7}", payloads[i % len(payloads)])
    return time.perf_counter() - start


def timed(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reviews-"))
    store = AuditStore(args.db or f"sqlite:///{tmp / 'audit.db'}", settings=Settings(data_dir=tmp))
    fill_s = fill(store, args.rows)
    flagged, total = store.review_queue(limit=1000)
    for item in flagged[::10]:
        store.record_review(item.audit_id, "comp1", "correct", "基准测试")
    print(f"| {store.engine.dialect.name}, {args.rows:,} checks ({total:,} queued) | median ms |")
    print("|---|---|")
    print(f"| append (per row, while filling) | {fill_s / args.rows * 1000:.2f} |")
    for label, kw in [
        ("queue page of 50", {}),
        ("… category=guarantee", {"category": "guarantee"}),
        ("… segment=pension", {"segment": "pension"}),
        ("… decided=false", {"decided": False}),
        ("… offset 2,000", {"offset": 2000}),
    ]:
        print(f"| {label} | {timed(lambda kw=kw: store.review_queue(limit=50, **kw)):.1f} |")
    buf = io.StringIO()
    ms = timed(lambda: store.export_reviews(io.StringIO()), repeat=3)
    report = store.export_reviews(buf)
    print(f"| export {report.written:,} labelled examples | {ms:.1f} |")


if __name__ == "__main__":
    main()
