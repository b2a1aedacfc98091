"""Score the template (or another) writer on the drafting dev set or an already-run blind batch.

Development tool, not part of the product: it uses the blind scorer (``copilot.evaluation.
blind_drafting.score``) on ONE file named on the command line and prints every not-useful,
ungrounded or unsafe draft. It refuses blind batches that have no first-seen record, so an unrun
batch is never scored in passing (its first run must be an honest figure).

    PYTHONPATH=$PWD COPILOT_DATA_DIR=/tmp/x .venv/bin/python eval/drafting/dev/run.py \
        eval/drafting/dev/questions.yaml [--writer template] [--show all|fail] [--only ID,...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from copilot.config import get_settings
from copilot.drafting import DraftRequest, draft_reply
from copilot.evaluation.blind_drafting import load_batch, read_first_seen, score, summarize
from copilot.evaluation.drafting import DraftingGolden, Inspector
from copilot.evaluation.golden import read_yaml
from copilot.retrieval import ingest


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--writer", default="template")
    ap.add_argument("--show", choices=["all", "fail", "none"], default="fail")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    settings = get_settings()
    path = args.path.resolve()
    if path.parent.name == "blind":
        seen = read_first_seen(settings.eval_dir)
        if args.writer not in seen.get(path.stem, {}):
            print(f"refused: {path.stem} has no first-seen record for {args.writer}", file=sys.stderr)
            return 2
    report = ingest(paths=None, settings=settings, progress=False)
    assert not report.failed, report.failed
    golden = DraftingGolden.model_validate(read_yaml(settings.eval_dir / "drafting" / "scenarios.yaml"))
    inspector = Inspector(settings, golden)
    only = {x for x in args.only.split(",") if x}
    scores = []
    for q in load_batch(path):
        if only and q.id not in only:
            continue
        d = draft_reply(
            DraftRequest(message=q.message, customer=q.customer(), channel=q.channel, history=q.history),
            writer=args.writer,
            settings=settings,
        )
        sources = [f"{c.title}\n{c.heading}\n{c.text}\n{inspector.declared(c.source_path)}" for c in d.citations]
        s = score(q, d, sources, golden.products, settings.guardrails_dir)
        scores.append(s)
        bad = not (s.useful and s.grounded) or s.unsafe_sendable
        if args.show == "all" or (args.show == "fail" and bad):
            flags = f"useful={s.useful} grounded={s.grounded} sendable={s.sendable} unsafe={s.unsafe_sendable}"
            print(f"--- {q.id} [{q.segment.value}] {q.message}\n    {flags} missing={s.missing} "
                  f"ungrounded={s.ungrounded} outside={s.outside_allowed}")
            print("    " + d.draft.replace("\n", "\n    "))
    for k, v in summarize(scores).items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
