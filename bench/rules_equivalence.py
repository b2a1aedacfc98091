"""Dump what the rules-only checker decides for every known message, to diff two versions of it.

    .venv/bin/python bench/rules_equivalence.py --out /tmp/rules-before.json
    (change the matcher) ...
    .venv/bin/python bench/rules_equivalence.py --out /tmp/rules-after.json
    cmp /tmp/rules-before.json /tmp/rules-after.json

A speed change to the rules path must not change a single verdict, finding or revision: the two
files must be byte-identical. The messages: eval/compliance/messages.jsonl, paraphrases*.jsonl,
the blind batches already run (batch-01..03; later batches are read only by their own run), every
rule's hit and pass examples in guardrails/*.yaml, and the speed bench's generated messages
(stitched from the labelled texts, so long messages with many rules in them are covered too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compliance import context_of, generate_messages, load_labelled  # noqa: E402
from copilot.compliance.checker import check_rules  # noqa: E402
from copilot.compliance.rules import load_rule_packs  # noqa: E402
from copilot.domain import CheckContext  # noqa: E402

EVAL = ROOT / "eval" / "compliance"
RULES = ROOT / "guardrails"
# Blind batches that have been run; a newer batch must not be read before its own run.
RUN_BLIND_BATCHES = ("batch-01.jsonl", "batch-02.jsonl", "batch-03.jsonl")


def labelled_cases() -> list[tuple[str, str, CheckContext]]:
    files = [EVAL / "messages.jsonl", *sorted(EVAL.glob("paraphrases*.jsonl"))]
    files += [EVAL / "blind" / name for name in RUN_BLIND_BATCHES]
    out = []
    for path in files:
        for n, row in enumerate(load_labelled(path), 1):
            out.append((f"{path.relative_to(ROOT)}:{row.get('id', n)}", row["text"], context_of(row)))
    return out


def example_cases() -> list[tuple[str, str, CheckContext]]:
    out = []
    for pack in load_rule_packs(RULES):
        for rule in pack.rules:
            for kind, examples in (("hit", rule.examples.hit), ("pass", rule.examples.pass_)):
                for n, example in enumerate(examples, 1):
                    ctx = CheckContext(**{**rule.examples.context, **example.context})
                    out.append((f"{rule.id}:{kind}{n}", example.text, ctx))
    return out


def generated_cases(n: int) -> list[tuple[str, str, CheckContext]]:
    rows = load_labelled()
    return [(f"generated:{i}", text, ctx) for i, (text, ctx) in enumerate(generate_messages(n, rows))]


def outcome(text: str, ctx: CheckContext) -> dict:
    v = check_rules(text, ctx, rules_dir=RULES)
    return {
        "verdict": v.verdict,
        "findings": [
            [f.rule, f.category, f.severity, f.start, f.end, f.text, f.message, f.suggestion, f.citation]
            for f in v.findings
        ],
        "revised": v.revised,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--generated", type=int, default=3000, help="how many bench messages to add")
    args = parser.parse_args()
    cases = labelled_cases() + example_cases() + generated_cases(args.generated)
    dump = [{"id": case_id, "text": text, "context": ctx.model_dump(mode="json"), **outcome(text, ctx)}
            for case_id, text, ctx in cases]
    args.out.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    verdicts: dict[str, int] = {}
    for d in dump:
        verdicts[d["verdict"]] = verdicts.get(d["verdict"], 0) + 1
    print(f"{len(dump)} messages -> {args.out}: {verdicts}")


if __name__ == "__main__":
    main()
