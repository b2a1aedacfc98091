"""Compiled rule packs: one Aho-Corasick automaton over every term and exception of every rule,
plus each rule's regexes, all matched against the dense normalised text.

Compiling (pinyin spellings included) takes a few hundred milliseconds, so a ``RuleSet`` is built
once per rule-pack load and cached by the checker; checking a message is then one pass of the
automaton plus the few regexes of the rules in scope.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import ahocorasick

from copilot.compliance.facts import Lexicons
from copilot.compliance.fixes import FixAction
from copilot.compliance.normalize import NormalizedText, dense_form, pinyin_variants
from copilot.compliance.rules import Rule, RulePack
from copilot.domain import CheckContext, Severity


@dataclass(slots=True)
class Hit:
    """One match of a rule, in original-text offsets. Validators may override severity or message."""

    start: int
    end: int
    term: str = ""  # the rule term (as written in the pack) that matched, if any
    severity: Severity | None = None
    message: str | None = None
    suggestion: str | None = None
    fix: FixAction | None = None


@dataclass(slots=True)
class CompiledRule:
    rule: Rule
    pack: RulePack
    regexes: list[re.Pattern[str]]

    def in_scope(self, ctx: CheckContext) -> bool:
        s = self.rule.scope
        if ctx.direction not in s.directions:
            return False
        if s.channels is not None and ctx.channel not in s.channels:
            return False
        if s.segments is not None and (ctx.segment is None or ctx.segment not in s.segments):
            return False
        return not (s.customer_risk is not None and (ctx.customer_risk or "").upper() not in s.customer_risk)


@dataclass(slots=True)
class ScanResult:
    """Raw dense-text spans per rule index: term hits (start, end, term) and exception spans."""

    terms: dict[int, list[tuple[int, int, str]]] = field(default_factory=lambda: defaultdict(list))
    exceptions: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


class RuleSet:
    def __init__(self, packs: list[RulePack]):
        self.packs = packs
        self.rules: list[CompiledRule] = []
        lexicon_words: dict[str, list[str]] = {}
        for pack in packs:
            lexicon_words.update(pack.lexicons)
            for rule in pack.rules:
                regexes = [re.compile(p) for p in rule.match.patterns]
                self.rules.append(CompiledRule(rule, pack, regexes))
        self.lexicons = Lexicons(lexicon_words)
        self.automaton = self._build_automaton()
        self._scope_cache: dict[tuple, tuple[int, ...]] = {}

    def in_scope(self, ctx: CheckContext) -> tuple[int, ...]:
        """Indices of the rules that apply to this context (cached: contexts repeat)."""
        key = (ctx.direction, ctx.channel, ctx.segment, (ctx.customer_risk or "").upper())
        indices = self._scope_cache.get(key)
        if indices is None:
            indices = tuple(i for i, r in enumerate(self.rules) if r.in_scope(ctx))
            if len(self._scope_cache) < 1024:
                self._scope_cache[key] = indices
        return indices

    def _build_automaton(self) -> ahocorasick.Automaton | None:
        entries: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for index, compiled in enumerate(self.rules):
            rule = compiled.rule
            for term in rule.match.terms:
                key = dense_form(term)
                spellings = pinyin_variants(key) if rule.match.pinyin else {key}
                for spelling in spellings:
                    entries[spelling].append((index, "term", term))
            for phrase in (*compiled.pack.exceptions, *rule.exceptions):
                key = dense_form(phrase)
                if key:
                    entries[key].append((index, "exception", phrase))
        if not entries:
            return None
        automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            automaton.add_word(key, (len(key), tuple(dict.fromkeys(values))))
        automaton.make_automaton()
        return automaton

    def scan(self, dense: str) -> ScanResult:
        result = ScanResult()
        if self.automaton is None or not dense:
            return result
        for end_index, (length, values) in self.automaton.iter(dense):
            start = end_index - length + 1
            for index, kind, term in values:
                if kind == "term":
                    result.terms[index].append((start, end_index + 1, term))
                else:
                    result.exceptions[index].append((start, end_index + 1))
        return result

    def rule_hits(self, index: int, doc: NormalizedText, scan: ScanResult) -> list[tuple[int, int, str]]:
        """Dense spans of one rule's terms and regexes that no exception of the rule encloses."""
        spans = list(scan.terms.get(index, ()))
        for rx in self.rules[index].regexes:
            spans.extend((m.start(), m.end(), "") for m in rx.finditer(doc.dense) if m.end() > m.start())
        if not spans:
            return []
        guards = scan.exceptions.get(index, ())
        kept = [
            (s, e, t) for s, e, t in spans if not any(gs <= s and e <= ge for gs, ge in guards)
        ]
        return _drop_nested(kept)


def _drop_nested(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop hits that sit inside a longer hit of the same rule ("保本" inside "保本保息")."""
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept and span[1] <= kept[-1][1]:
            continue
        kept.append(span)
    return kept
