"""``check(text, context) -> Verdict``: runs every rule in scope and decides pass / revise / block.

* block  — any finding that cannot be fixed safely (severity block, or a fix that does not apply).
* revise — every non-warn finding has an automatic fix; ``revised`` holds the text with all of them
  applied, and that text is checked again before it is offered.
* pass   — nothing, or warnings only.

It fails closed: a rule that raises, a rule pack that does not load, or input it cannot read gives
``block`` with an ``internal-error`` finding, never ``pass``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from copilot.compliance.calibration import calibrate_benchmark_figures, calibrate_interest_words
from copilot.compliance.facts import MessageFacts
from copilot.compliance.fixes import FixAction, FixConflict, apply_fixes
from copilot.compliance.matcher import Hit, RuleSet
from copilot.compliance.normalize import normalize
from copilot.compliance.rules import Rule, load_rule_packs, rule_pack_files
from copilot.compliance.validators import PRECHECKS, VALIDATORS, RuleRun
from copilot.domain import CUSTOMER_RISK_LEVELS, CheckContext, Finding, Verdict

INTERNAL_ERROR = "internal-error"
REVISE_UNVERIFIED = "revise-unverified"

# How often (seconds) the cache looks at the rule files again, so edits apply without a restart.
RECHECK_FILES_EVERY_S = 2.0


class _Cached:
    def __init__(self, fingerprint: tuple, rules: RuleSet, checked_at: float):
        self.fingerprint = fingerprint
        self.rules = rules
        self.checked_at = checked_at


_cache: dict[Path, _Cached] = {}
_recent: dict[str | None, _Cached] = {}  # keyed by the argument as given, to skip path resolution
_lock = threading.Lock()


def _fingerprint(directory: Path) -> tuple:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in rule_pack_files(directory))


def rule_set(rules_dir: Path | str | None = None) -> RuleSet:
    """The compiled rule packs of ``rules_dir`` (default: settings.guardrails_dir), cached."""
    now = time.monotonic()
    key = None if rules_dir is None else str(rules_dir)
    hot = _recent.get(key)
    if hot is not None and now - hot.checked_at < RECHECK_FILES_EVERY_S:
        return hot.rules  # the common case: no path handling at all
    if rules_dir is None:
        from copilot.config import get_settings

        rules_dir = get_settings().guardrails_dir
    directory = Path(rules_dir).resolve()
    with _lock:
        cached = _cache.get(directory)
        fingerprint = _fingerprint(directory) if directory.is_dir() else ()
        if cached is None or cached.fingerprint != fingerprint:
            cached = _Cached(fingerprint, RuleSet(load_rule_packs(directory)), now)
            _cache[directory] = cached
        cached.checked_at = now
        _recent[key] = cached
        return cached.rules


# The product catalogue of the last (settings, scoped segment registry), looked up again at most
# every RECHECK_FILES_EVERY_S like the rule files: resolving it (settings paths, the segments file's
# stat calls) cost about a tenth of a short message's check.
_catalog_memo: tuple | None = None  # (settings, scoped registry, catalogue, looked up at)


def _catalog():
    global _catalog_memo
    from copilot.config import get_settings
    from copilot.knowledge import product_catalog
    from copilot.segments import _ACTIVE  # the registry a caller scoped with segments_of(), if any

    settings, scoped, now = get_settings(), _ACTIVE.get(), time.monotonic()
    memo = _catalog_memo
    if memo is not None and memo[0] is settings and memo[1] is scoped and now - memo[3] < RECHECK_FILES_EVERY_S:
        return memo[2]
    catalog = product_catalog()
    _catalog_memo = (settings, scoped, catalog, now)
    return catalog


def fail_closed(where: str, exc: BaseException | None = None) -> Verdict:
    """The verdict when the guardrail cannot run: block, never an approval."""
    return Verdict(verdict="block", findings=[_internal_error(where, exc)])


def _internal_error(where: str, exc: BaseException | None) -> Finding:
    return Finding(
        rule=INTERNAL_ERROR,
        category="internal",
        severity="block",
        start=0,
        end=0,
        text="",
        message=f"合规检查出错（{where}）"
        + (f"：{type(exc).__name__}: {exc}" if exc is not None else "")
        + "。为安全起见按拦截处理，请联系合规或技术人员。",
        citation="",
        suggestion="",
    )


def _rule_fix(rule: Rule, hit: Hit, text: str) -> FixAction | None:
    fix = rule.fix
    if fix is None:
        return None
    if fix.replace is not None:
        replacement = fix.replace.get(hit.term, fix.replace.get("*"))
        return None if replacement is None else FixAction("replace", hit.start, hit.end, replacement)
    if fix.append is not None:
        return FixAction("append", text=fix.append)
    from copilot.compliance.pii import mask_pii

    return FixAction("mask", hit.start, hit.end, mask_pii(text[hit.start : hit.end]))


def _describe_fix(fix: FixAction) -> str:
    if fix.kind == "append":
        return f"在文末补充：“{fix.text}”"
    if fix.kind == "mask":
        return f"脱敏为：{fix.text}"
    return f"改为：“{fix.text}”"


def _evaluate(rules: RuleSet, index: int, doc, scan, facts: MessageFacts) -> list[Hit]:
    rule = rules.rules[index].rule
    precheck = PRECHECKS.get(rule.match.validator) if rule.match.validator else None
    if precheck is not None and precheck(RuleRun(rule, facts, [])):
        return []  # the validator finds nothing whatever the hits: no need to work them out
    spans = rules.rule_hits(index, doc, scan)
    if spans and rule.only_in_investment_context and not facts.is_about_investing:
        spans = []
    if spans and rule.skip_deposit_sentences:
        spans = [s for s in spans if not facts.is_deposit_sentence(s[0], s[1])]
    if rule.skip_questions and spans:
        spans = [s for s in spans if not doc.in_question(s[0], s[1])]
    if rule.skip_sentences_with and spans:
        spans = [s for s in spans if not facts.in_sentence_with(rule.skip_sentences_with, doc, s[0], s[1])]
    hits = [Hit(*doc.span(s, e), term=t) for s, e, t in spans]
    quoting = rule.skip_quotes_in_messages_with
    if quoting and hits and facts.sentence_mentions(quoting, 0, 0):  # (0, 0): the whole message
        hits = [h for h in hits if not doc.in_quotes(h.start, h.end)]
    if rule.match.validator:
        return VALIDATORS[rule.match.validator](RuleRun(rule, facts, hits))
    for hit in hits:
        hit.fix = _rule_fix(rule, hit, doc.original)
    return hits


def _to_finding(rule: Rule, hit: Hit, text: str) -> tuple[Finding, FixAction | None]:
    severity = hit.severity or rule.severity
    fix = hit.fix if severity == "revise" else None
    if severity == "revise" and fix is None:
        severity = "block"  # a revise finding that nothing can fix must not slip through
    suggestion = hit.suggestion or rule.suggestion or (_describe_fix(fix) if fix else "")
    finding = Finding(
        rule=rule.id,
        category=rule.category,
        severity=severity,
        start=hit.start,
        end=hit.end,
        text=text[hit.start : hit.end],
        message=hit.message or rule.message,
        citation=rule.citation,
        suggestion=suggestion,
    )
    return finding, fix


Results = list[tuple[Finding, FixAction | None]]


def _rule_results(rules: RuleSet, text: str, ctx: CheckContext) -> tuple[Results, MessageFacts]:
    doc = normalize(text)
    facts = MessageFacts(doc, ctx, rules.lexicons, _catalog)
    scan = rules.scan(doc.dense)
    live = rules.candidates(scan)
    results: list[tuple[Finding, FixAction | None]] = []
    for index in rules.in_scope(ctx):
        if index not in live:
            continue  # no term, regex or validator of this rule can find anything here
        compiled = rules.rules[index]
        try:
            hits = _evaluate(rules, index, doc, scan, facts)
        except Exception as exc:  # fail closed: a broken rule blocks, it never passes
            results.append((_internal_error(f"规则 {compiled.rule.id}", exc), None))
            continue
        results.extend(_to_finding(compiled.rule, hit, text) for hit in hits)
    results = calibrate_interest_words(results, text, facts, rules)
    return calibrate_benchmark_figures(results, text, facts), facts


Opinion = Callable[[Results, str, CheckContext, MessageFacts], Results]  # the second opinion (combiner.py)


def _run(rules: RuleSet, text: str, ctx: CheckContext, verify: bool, second: Opinion | None = None) -> Verdict:
    results, facts = _rule_results(rules, text, ctx)
    if second is not None:
        results = second(results, text, ctx, facts)
    results.sort(key=lambda r: (r[0].start, r[0].end, r[0].rule))
    findings = [f for f, _ in results]
    if any(f.severity == "block" for f in findings):
        return Verdict(verdict="block", findings=findings)
    fixes = [
        one
        for f, fix in results
        if f.severity == "revise" and fix is not None
        for one in (fix if isinstance(fix, tuple) else (fix,))
    ]
    # A model finding below its block threshold has no fix: the verdict is revise, for review.
    review = any(f.severity == "revise" and f.source == "model" for f in findings)
    if not fixes:
        return Verdict(verdict="revise", findings=findings, revised=text) if review else Verdict(
            verdict="pass", findings=findings
        )
    try:
        revised = apply_fixes(text, fixes)
    except FixConflict as exc:
        return Verdict(verdict="block", findings=[*findings, _unverified(str(exc))])
    if verify:
        again = _run(rules, revised, ctx, verify=False, second=second)
        # Not new: what the model flagged for review on the original and is still there unchanged,
        # and a model opinion on a sentence a rule's own fix rewrote (the rule is the authority on
        # its replacement wording; the model judged the sentence as the RM wrote it).
        reviewed = {f.text for f in findings if f.source == "model" and f.severity == "revise"}
        left = {
            f.rule
            for f in again.findings
            if f.severity != "warn"
            and not (f.source == "model" and (f.text not in text or (f.severity == "revise" and f.text in reviewed)))
        }
        if left:
            detail = f"修改后仍命中：{'、'.join(sorted(left))}"
            return Verdict(verdict="block", findings=[*findings, _unverified(detail)])
    return Verdict(verdict="revise", findings=findings, revised=revised)


def _unverified(detail: str) -> Finding:
    return Finding(
        rule=REVISE_UNVERIFIED,
        category="internal",
        severity="block",
        start=0,
        end=0,
        text="",
        message=f"自动修改无法得到合规文本（{detail}），请人工修改后再检查。",
    )


def check(
    text: str,
    context: CheckContext | None = None,
    *,
    rules_dir: Path | str | None = None,
    model_dir: Path | str | None = None,
) -> Verdict:
    """Check one message with the rules and the learned second opinion, combined in combiner.py.

    ``model_dir`` holds model.npz/model.json (default: ``<data_dir>/compliance``, trained on first
    use when neither file exists). A model that is missing or does not load blocks, like a rule
    pack that does not load."""
    try:
        ctx, rules = _prepare(text, context, rules_dir)
    except Exception as exc:
        return fail_closed("加载规则或读取输入", exc)
    try:
        from copilot.compliance.combiner import second_opinion

        opinion = second_opinion(rules, model_dir)
    except Exception as exc:
        return fail_closed("加载合规模型", exc)
    try:
        return _run(rules, text, ctx, verify=True, second=opinion)
    except Exception as exc:
        return fail_closed("检查过程", exc)


def _prepare(text: str, context: CheckContext | None, rules_dir: Path | str | None) -> tuple[CheckContext, RuleSet]:
    if not isinstance(text, str):
        raise TypeError(f"待检查内容应为文本，收到 {type(text).__name__}")
    ctx = context or CheckContext()
    if ctx.customer_risk is not None and ctx.customer_risk.strip().upper() not in CUSTOMER_RISK_LEVELS:
        raise ValueError(f"客户风险等级应为 C1–C5，收到 {ctx.customer_risk!r}")
    return ctx, rule_set(rules_dir)


def check_rules(text: str, context: CheckContext | None = None, *, rules_dir: Path | str | None = None) -> Verdict:
    """Check one message with the rules only (the fast path; training and the bench use it)."""
    try:
        ctx, rules = _prepare(text, context, rules_dir)
    except Exception as exc:
        return fail_closed("加载规则或读取输入", exc)
    try:
        return _run(rules, text, ctx, verify=True)
    except Exception as exc:
        return fail_closed("检查过程", exc)
