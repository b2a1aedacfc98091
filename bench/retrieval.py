"""Retrieval benchmark on the Fin-Eva insurance-clause set (317 clauses, 317 questions).

Indexes the clauses through the real ingest path into a cached data directory, then reports
R@1, R@5, MRR for dense, BM25 and hybrid, ingestion chunks/s and query latency p50/p95.

    python bench/retrieval.py [--shared ../shared/data] [--fresh]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import time
from pathlib import Path

from copilot.config import CHECKOUT, Settings
from copilot.retrieval import Retriever, ingest


def load(shared: Path) -> tuple[list[dict], list[dict]]:
    d = shared / "fin-eva" / "derived"
    corpus = [json.loads(x) for x in (d / "insurance_clause_corpus.jsonl").read_text("utf-8").splitlines() if x]
    queries = [json.loads(x) for x in (d / "insurance_clause_queries.jsonl").read_text("utf-8").splitlines() if x]
    return corpus, queries


def build(corpus: list[dict], workdir: Path, fresh: bool) -> tuple[Settings, float, int]:
    docs = workdir / "clauses"
    data = workdir / "data"
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    docs.mkdir(parents=True, exist_ok=True)
    for c in corpus:
        # Fin-Eva, Ant Group, CC BY 4.0 — written to a temp folder only, never committed
        (docs / f"{c['doc_id']}.txt").write_text(c["text"], encoding="utf-8")
    settings = Settings(data_dir=data, content_root=workdir)
    t = time.perf_counter()
    report = ingest([docs], settings)
    return settings, time.perf_counter() - t, report.chunks


def evaluate(retriever: Retriever, queries: list[dict], k: int = 10) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for q in queries:
        seen: list[str] = []
        for h in retriever.search(q["question"], k=k):
            if h.doc_id not in seen:
                seen.append(h.doc_id)
        if q["gold_doc_id"] in seen:
            rank = seen.index(q["gold_doc_id"]) + 1
            r1 += rank == 1
            r5 += rank <= 5
            mrr += 1 / rank
    n = len(queries)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR": mrr / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=CHECKOUT.parent / "shared" / "data")
    ap.add_argument("--fresh", action="store_true", help="re-embed from scratch (measures ingestion)")
    args = ap.parse_args()
    corpus, queries = load(args.shared)
    key = hashlib.sha256(json.dumps(corpus, ensure_ascii=False).encode()).hexdigest()[:12]
    settings, secs, chunks = build(corpus, CHECKOUT / ".data" / f"bench-clauses-{key}", args.fresh)
    print(f"corpus: {len(corpus)} clauses, {len(queries)} questions")
    if chunks:
        print(f"ingestion: {chunks} chunks in {secs:.1f} s = {chunks / secs:.1f} chunks/s")
    else:
        print(f"ingestion: index up to date (incremental re-run took {secs:.2f} s; --fresh to re-measure)")
    print(f"{'mode':8} {'R@1':>6} {'R@5':>6} {'MRR':>6}")
    for mode in ("dense", "bm25", "hybrid"):
        m = evaluate(Retriever(settings, mode=mode), queries)
        print(f"{mode:8} {m['R@1']:6.3f} {m['R@5']:6.3f} {m['MRR']:6.3f}")
    retriever = Retriever(settings)
    for q in queries[:20]:  # warm-up
        retriever.search(q["question"], k=5)
    lat = []
    for q in queries:
        t = time.perf_counter()
        retriever.search(q["question"], k=5)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    p95 = lat[int(0.95 * (len(lat) - 1))]
    print(f"query latency (hybrid, k=5): p50 {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
