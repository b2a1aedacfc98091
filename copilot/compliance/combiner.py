"""One place where the two opinions meet: the rules' findings and the sentence classifier's scores.

llm-guard's idea: every scanner speaks one contract and one combiner turns their outputs into the
verdict. Here the rules run first (``checker._rule_results``); ``second_opinion`` returns the step
that then, per sentence and category:

- **raises** what the rules missed: no rule finding of that category overlaps the sentence and the
  model's score reaches the category's ``raise_at`` → a finding ``model-<category>``
  (``source="model"``), ``block`` at or above ``block_at``, else ``revise`` marked 需人工复核;
- **clears** a rule hit it is confident is benign: the rule's category is clearable and the
  sentence scores below ``clear_below`` → the finding stays in the verdict, as ``warn`` with
  ``source="model"`` and the score, so the officer sees which rule fired and why it was let through;
- otherwise leaves the rule finding as it is, with the model's score attached.

When the revised text is checked again only clearing applies: a review finding on the original
is not raised a second time on the same sentence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from copilot.compliance.classifier import META_FILE, WEIGHTS_FILE, SentenceModel, cached_model
from copilot.compliance.features import is_conservative, split_sentences
from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import RuleSet
from copilot.domain import CheckContext, Finding

COUNTED = ("block", "revise")
Results = list[tuple[Finding, FixAction | None]]

_MESSAGES = {
    "guarantee": "疑似承诺或暗示保本、保收益",
    "expected_return": "疑似预测收益或把业绩比较基准说成收益",
    "deposit_confusion": "疑似把理财与存款混同",
    "past_performance": "疑似不规范地展示过往业绩",
    "superlative": "疑似使用绝对化用语",
    "disparagement": "疑似贬低同业",
    "inducement": "疑似以赠品、抽奖、返现诱导购买",
    "regulator_endorsement": "疑似以监管或国家名义背书",
    "suitability": "疑似向稳健型或养老客户推介高风险产品",
}
_build_lock = threading.Lock()


def model_directory(model_dir: Path | str | None) -> Path:
    """The model's folder; the default one is trained on first use when neither file exists."""
    if model_dir is not None:
        return Path(model_dir)
    from copilot.config import get_settings

    settings = get_settings()
    directory = settings.data_dir / "compliance"
    if not (directory / WEIGHTS_FILE).exists() and not (directory / META_FILE).exists():
        with _build_lock:
            if not (directory / WEIGHTS_FILE).exists():
                from copilot.compliance.training import train_and_save

                train_and_save(settings.eval_dir, settings.guardrails_dir, directory)
    return directory


def _citations(rules: RuleSet) -> dict[str, str]:
    out: dict[str, str] = {}
    for compiled in rules.rules:
        out.setdefault(compiled.rule.category, compiled.rule.citation)
    return out


def second_opinion(rules: RuleSet, model_dir: Path | str | None) -> Callable[..., Results]:
    model = cached_model(model_directory(model_dir))
    citations = _citations(rules)

    def step(results: Results, text: str, ctx: CheckContext, raise_new: bool) -> Results:
        return combine(results, text, ctx, model, citations, raise_new=raise_new)

    return step


def combine(
    results: Results,
    text: str,
    ctx: CheckContext,
    model: SentenceModel,
    citations: dict[str, str],
    *,
    raise_new: bool = True,
) -> Results:
    if ctx.direction != "outbound":
        return results  # inbound text is the customer's: only PII and injection rules apply
    sentences = split_sentences(text)
    if not sentences:
        return results
    scores = model.scores([s.dense for s in sentences])
    column = {c: k for k, c in enumerate(model.categories)}
    conservative = is_conservative(ctx)

    def overlapping(start: int, end: int) -> list[int]:
        return [i for i, s in enumerate(sentences) if s.start < end and s.end > start]

    out: Results = []
    for finding, fix in results:
        k = column.get(finding.category)
        rows = overlapping(finding.start, finding.end) if k is not None and finding.end > finding.start else []
        if not rows or finding.severity not in COUNTED or finding.source != "rule":
            out.append((finding, fix))
            continue
        score = round(float(max(scores[i, k] for i in rows)), 4)
        limit = model.thresholds[finding.category].clear_below
        if score < limit:
            cleared = finding.model_copy(
                update={
                    "severity": "warn",
                    "source": "model",
                    "score": score,
                    "message": f"规则命中，但模型判断为合规表述（得分 {score:.2f}，低于放行线 {limit:.2f}），"
                    f"已放行；规则原提示：{finding.message}",
                }
            )
            out.append((cleared, None))
        else:
            out.append((finding.model_copy(update={"score": score}), fix))
    if not raise_new:
        return out
    flagged = [(f.category, f.start, f.end) for f, _ in results if f.severity in COUNTED]
    for i, s in enumerate(sentences):
        for c, k in column.items():
            if c == "suitability" and not conservative:
                continue
            score = float(scores[i, k])
            limits = model.thresholds[c]
            if score < limits.raise_at:
                continue
            if any(cat == c and start < s.end and end > s.start for cat, start, end in flagged):
                continue  # the rules already said it
            blocking = score >= limits.block_at
            message = _MESSAGES.get(c, "疑似违规表述") + (
                f"（模型得分 {score:.2f}，规则未命中）。"
                + ("请改写后再发送。" if blocking else "需人工复核：请确认或改写后再发送。")
            )
            finding = Finding(
                rule=f"model-{c.replace('_', '-')}",
                category=c,
                severity="block" if blocking else "revise",
                start=s.start,
                end=s.end,
                text=s.text,
                message=message,
                citation=citations.get(c, ""),
                suggestion="",
                source="model",
                score=round(score, 4),
            )
            out.append((finding, None))
    return out
