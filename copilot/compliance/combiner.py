"""One place where the two opinions meet: the rules' findings and the sentence classifier's scores.

llm-guard's idea: every scanner speaks one contract and one combiner turns their outputs into the
verdict. Here the rules run first (``checker._rule_results``); ``second_opinion`` returns the step
that then, per sentence and category:

- **raises** what the rules missed: no rule finding of that category overlaps the sentence and the
  model's score reaches the category's ``raise_at`` → a finding ``model-<category>``
  (``source="model"``), ``block`` at or above ``block_at``, else ``revise`` marked 需人工复核;
  not in a sentence the category's rules skip by design (``RAISE_SKIP_LEXICONS``) or that holds one
  of the category's pack-level exception patterns; a past-performance finding whose sentence states
  its start–end period gets the warning appended (``revise``);
- **clears** a rule hit it is confident is benign: the rule's category is clearable and the
  sentence scores below ``clear_below`` → the finding stays in the verdict, as ``warn`` with
  ``source="model"`` and the score, so the officer sees which rule fired and why it was let through;
- otherwise leaves the rule finding as it is, with the model's score attached.

The revised text is checked again with both opinions (checker._run); a review finding still there
unchanged, or a model opinion on a sentence a rule's fix rewrote, does not count as new.
"""

from __future__ import annotations

import fcntl
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

from copilot.compliance.calibration import states_own_benchmark
from copilot.compliance.classifier import (
    FORMAT_VERSION,
    INBOUND_CATEGORIES,
    META_FILE,
    OUTBOUND_CATEGORIES,
    WEIGHTS_FILE,
    SentenceModel,
    cached_model,
)
from copilot.compliance.facts import MessageFacts
from copilot.compliance.features import (
    boilerplate_forms,
    boilerplate_pieces,
    is_boilerplate,
    is_conservative,
    split_sentences,
)
from copilot.compliance.fixes import FixAction
from copilot.compliance.matcher import RuleSet
from copilot.compliance.normalize import bare_form
from copilot.domain import CheckContext, Finding

COUNTED = ("block", "revise")
# The model clears a rule hit only when the sentence also shows why it could be benign: a word of
# these lexicons (advice against, a fraud warning, a prohibition, a rebuttal, a deposit) or a
# negation right before the hit. A low score alone never lets a hit through.
CUE_LEXICONS = (
    "advice_against_terms",
    "fraud_warning_terms",
    "fraud_topic_terms",
    "prohibition_terms",
    "quote_rebuttal_terms",
    "rumour_rebuttal_terms",
    "deposit_terms",
)
NEGATORS = frozenset("不没非无别勿未")
# Claims that are true of a deposit (保本, a fixed rate, deposit insurance): not raised in a
# sentence about deposits only, in a message naming no investment product.
DEPOSIT_GATED = frozenset({"guarantee", "expected_return", "deposit_confusion", "past_performance"})
# The rules of these categories skip a sentence holding a word of these lexicons (their
# ``skip_sentences_with``); the model does not raise them there either: advising against a product
# or explaining its risk is not pushing it (``跟您现在的情况不太合适``), and a loan's annualised rate
# is a fee the law asks to show, not a return (``按12期折算，年化利率大约13%``) — unless the sentence
# also names an investment.
RAISE_SKIP_LEXICONS: dict[str, tuple[str, ...]] = {
    "suitability": ("advice_against_terms", "risk_explanation_patterns"),
    "expected_return": ("credit_terms",),
    "disparagement": ("prohibition_terms", "rumour_rebuttal_terms"),
}
RAISE_SKIP_UNLESS = {"expected_return": "investment_terms"}
NEGATION_REACH = 4  # characters before the hit
_QUOTED = re.compile(r"[“「『\"][^”」』\"\n]{1,80}[”」』\"]")  # one pair of quotation marks, within a line
# Verdict calibration (docs/compliance.md): what the model finds and the rules did not has no safe
# automatic fix — the fixable wordings (a product's own benchmark figure, a dated past performance
# without the warning, 利息 of a named product, 最划算) are the rules' — so a model finding of these
# categories blocks from ``raise_at`` on. Only superlative keeps the review band (revise,
# 需人工复核): a paraphrase of 最划算 is replaceable wording a person can soften.
BLOCK_ONLY = frozenset(
    {"guarantee", "expected_return", "deposit_confusion", "past_performance", "disparagement", "inducement",
     "regulator_endorsement", "suitability", "prompt_injection"}
)
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
    "prompt_injection": "疑似试图改变助手指令（客户消息只作为资料，不执行其中的指令）",
}
_build_lock = threading.Lock()


def model_directory(model_dir: Path | str | None) -> Path:
    """The model's folder. The default one is trained on first use when neither file exists, and
    rebuilt when its ``model.json`` names another format (an old model left in the data directory
    is never used silently). A file lock keeps two processes from building it at once, and one that
    finds half a model waits for the builder. A model given explicitly is never built: missing or of
    another format means blocked."""
    if model_dir is not None:
        return Path(model_dir)
    from copilot.config import get_settings

    settings = get_settings()
    directory = settings.data_dir / "compliance"
    if (directory / WEIGHTS_FILE).exists() and (directory / META_FILE).exists() and not _other_format(directory):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with _build_lock, open(directory / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        weights, meta = directory / WEIGHTS_FILE, directory / META_FILE
        if (not weights.exists() and not meta.exists()) or (meta.exists() and _other_format(directory)):
            from copilot.compliance.training import train_and_save

            train_and_save(settings.eval_dir, settings.guardrails_dir, directory)
    return directory


_format_seen: dict[Path, tuple[int, bool]] = {}


def _other_format(directory: Path) -> bool:
    """Whether model.json is readable and names a format other than this code's (cached per mtime).
    An unreadable file is not "other": loading it then fails closed."""
    meta = directory / META_FILE
    try:
        stamp = meta.stat().st_mtime_ns
    except OSError:
        return False
    hit = _format_seen.get(directory)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        other = json.loads(meta.read_text("utf-8")).get("format") != FORMAT_VERSION
    except (OSError, ValueError, AttributeError):
        other = False
    _format_seen[directory] = (stamp, other)
    return other


_facts_cache: dict[int, tuple] = {}


def _rule_facts(rules: RuleSet) -> tuple[dict[str, str], frozenset[str], tuple[str, ...]]:
    """Per rule set (cached): the citation of each category, the boilerplate sentences, and the
    past-performance warnings (bare forms)."""
    return _rule_facts_full(rules)[:3]


def _rule_facts_full(rules: RuleSet) -> tuple:
    """``_rule_facts`` plus the past-performance rule's period patterns (compiled, over the dense
    text) and the warning its fix appends."""
    hit = _facts_cache.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1:]
    citations: dict[str, str] = {}
    warnings: list[str] = []
    periods: list[str] = []
    append = ""
    for compiled in rules.rules:
        citations.setdefault(compiled.rule.category, compiled.rule.citation)
        if compiled.rule.category == "past_performance":
            params = compiled.rule.match.params
            warnings += [bare_form(w) for w in params.get("warnings", [])]
            if params.get("period_patterns") and compiled.rule.fix is not None and compiled.rule.fix.append:
                periods += params["period_patterns"]
                append = append or compiled.rule.fix.append
    period = re.compile("|".join(f"(?:{p})" for p in periods)) if periods else None
    facts = (citations, boilerplate_forms(rules), tuple(w for w in warnings if w), period, append)
    _facts_cache[id(rules)] = (rules, *facts)
    return facts


def second_opinion(rules: RuleSet, model_dir: Path | str | None) -> Callable[..., Results]:
    model = cached_model(model_directory(model_dir))
    citations, boilerplate, warnings, period, warning_sentence = _rule_facts_full(rules)

    lexicons = rules.lexicons
    cues = tuple(n for n in CUE_LEXICONS if n in lexicons.raw)

    # The disclosure glued to a sentence ("…放心产品✅ 理财非存款、…") is no cue: its 存款 and 非 are
    # the required wording, not the RM's.
    pieces = boilerplate_pieces(rules)

    def has_cue(text: str, sentence_dense: str, start: int) -> bool:
        if any(m.start() < start < m.end() for m in _QUOTED.finditer(text)):
            return True  # a claim quoted (an anti-fraud post, a rumour passed on to be dismissed)
        before = text[max(0, start - NEGATION_REACH) : start]
        for piece in pieces:
            sentence_dense = sentence_dense.replace(piece, "")
        return any(ch in NEGATORS for ch in before) or any(lexicons.any_in(n, sentence_dense) for n in cues)

    # A pack's own exception patterns (every rule of the pack) mark wordings its authors judged not to
    # be the claim — a customer's question repeated to answer it, a claim reported and denied at once:
    # the model does not raise the pack's category in a sentence holding one either.
    guards: dict[str, list[re.Pattern[str]]] = {}
    for pack in rules.packs:
        categories = {r.category for r in pack.rules}
        if len(categories) == 1 and pack.exception_patterns:
            guards.setdefault(categories.pop(), []).extend(re.compile(x) for x in pack.exception_patterns)

    def raise_skipped(category: str, sentence_dense: str) -> bool:
        if any(g.search(sentence_dense) for g in guards.get(category, ())):
            return True
        names = [n for n in RAISE_SKIP_LEXICONS.get(category, ()) if n in lexicons.raw]
        if not names:
            return False
        for piece in pieces:
            sentence_dense = sentence_dense.replace(piece, "")
        if not any(lexicons.any_in(n, sentence_dense) for n in names):
            return False
        unless = RAISE_SKIP_UNLESS.get(category)
        return not (unless and unless in lexicons.raw and lexicons.any_in(unless, sentence_dense))

    def dated(sentence_dense: str) -> FixAction | None:
        """The past-performance warning to append when the sentence states its start–end period:
        the dates are there, only the warning is missing — the rules' own ``revise`` case."""
        if period is None or not warning_sentence or not period.search(sentence_dense):
            return None
        return FixAction("append", text=warning_sentence)

    def step(results: Results, text: str, ctx: CheckContext, facts: MessageFacts | None = None) -> Results:
        return combine(
            results, text, ctx, model, citations, boilerplate, warnings, has_cue=has_cue, facts=facts,
            raise_skipped=raise_skipped, dated=dated,
        )

    return step


def combine(
    results: Results,
    text: str,
    ctx: CheckContext,
    model: SentenceModel,
    citations: dict[str, str],
    boilerplate: frozenset[str] = frozenset(),
    pp_warnings: tuple[str, ...] = (),
    *,
    has_cue: Callable[[str, str, int], bool] | None = None,
    facts: MessageFacts | None = None,
    raise_skipped: Callable[[str, str], bool] | None = None,
    dated: Callable[[str], FixAction | None] | None = None,
) -> Results:
    # Inbound text is the customer's: only the prompt-injection head judges it. Outbound text is
    # judged by every head: an instruction to the checker hidden in a post is an injection too.
    heads = INBOUND_CATEGORIES if ctx.direction == "inbound" else OUTBOUND_CATEGORIES + INBOUND_CATEGORIES
    sentences = [s for s in split_sentences(text) if not is_boilerplate(s, boilerplate)]
    if not sentences:
        return results
    scores = model.scores([s.dense for s in sentences])
    column = {c: k for k, c in enumerate(model.categories) if c in heads}
    conservative = is_conservative(ctx)
    if pp_warnings and "past_performance" in column:
        bare = bare_form(text)
        if any(w in bare for w in pp_warnings):
            column.pop("past_performance")  # the warning is there: past performance is the rules' call

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
        cue = has_cue is not None and any(has_cue(text, sentences[i].dense, finding.start) for i in rows)
        if score < limit and cue:
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
    flagged = [(f.category, f.start, f.end) for f, _ in results if f.severity in COUNTED]
    gate_deposits = facts is not None and {"deposit_terms", "investment_terms"} <= facts.lexicons.raw.keys()
    for i, s in enumerate(sentences):
        deposit_fact = gate_deposits and facts.is_deposit_sentence(*facts.doc.dense_span(s.start, s.end))
        for c, k in column.items():
            if c == "suitability" and not conservative:
                continue
            if deposit_fact and c in DEPOSIT_GATED:
                continue  # a true statement about a deposit, as the rules' skip_deposit_sentences
            if c == "expected_return" and facts is not None and states_own_benchmark(s.text, facts):
                continue  # a product's own benchmark figure: the rules' and calibration's call
            score = float(scores[i, k])
            limits = model.thresholds[c]
            if score < limits.raise_at:
                continue
            if any(cat == c and start < s.end and end > s.start for cat, start, end in flagged):
                continue  # the rules already said it
            if raise_skipped is not None and raise_skipped(c, s.dense):
                continue  # a sentence the category's rules skip (advice against, a loan's rate)
            fix = dated(s.dense) if c == "past_performance" and dated is not None else None
            blocking = fix is None and (score >= limits.block_at or c in BLOCK_ONLY)
            message = _MESSAGES.get(c, "疑似违规表述") + (
                f"（模型得分 {score:.2f}，规则未命中）。"
                + (
                    "已注明起止日期，已追加过往业绩提示。" if fix is not None
                    else "请改写后再发送。" if blocking else "需人工复核：请确认或改写后再发送。"
                )
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
            out.append((finding, fix))
    return out
