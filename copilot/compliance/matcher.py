"""Compiled rule packs: one Aho-Corasick automaton over every term and exception of every rule,
plus each rule's regexes, all matched against the dense normalised text.

Compiling (pinyin spellings included) takes a few hundred milliseconds, so a ``RuleSet`` is built
once per rule-pack load and cached by the checker; checking a message is then one pass of the
automaton plus the few regexes of the rules in scope. A second automaton holds the literals each
regex needs (``prefilter``): a regex whose literals are all absent is not run, and a rule with no
term hit, no runnable regex and no validator is not evaluated at all.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

import ahocorasick

from copilot.compliance.facts import Lexicons
from copilot.compliance.fixes import FixAction
from copilot.compliance.normalize import NormalizedText, dense_form, pinyin_variants
from copilot.compliance.prefilter import required_literals, start_scanner
from copilot.compliance.rule_schema import Rule, RulePack
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
    guard_groups: tuple[int, int] = (0, 0)  # exception groups: the pack's and the rule's own
    guard_regexes: tuple[re.Pattern[str], ...] = ()  # exception patterns: the pack's and the rule's own
    # Per regex: literals one of which every match contains (None: unknown, the regex always runs).
    regex_literals: tuple[frozenset[str] | None, ...] = ()
    # Per regex: where its matches can start, for a regex ``re`` would try at every position.
    regex_starts: tuple[re.Pattern[str] | None, ...] = ()

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
    """Raw dense-text spans: term hits (start, end, term) per rule index, and exception spans per
    exception group (one group per pack, one per rule, so shared pack exceptions are stored once)."""

    terms: dict[int, list[tuple[int, int, str]]] = field(default_factory=lambda: defaultdict(list))
    exceptions: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    # The regex literals present in the text; None: not looked for, so every regex runs.
    literals: set[str] | None = None


class RuleSet:
    def __init__(self, packs: list[RulePack]):
        self.packs = packs
        self.rules: list[CompiledRule] = []
        lexicon_words: dict[str, list[str]] = {}
        self._group_phrases: list[list[str]] = []
        for pack in packs:
            lexicon_words.update(pack.lexicons)
            pack_group = self._new_group(pack.exceptions)
            pack_guards = [re.compile(p) for p in pack.exception_patterns]
            for rule in pack.rules:
                regexes = [re.compile(p) for p in rule.match.patterns]
                groups = (pack_group, self._new_group(rule.exceptions))
                guards = (*pack_guards, *(re.compile(p) for p in rule.exception_patterns))
                literals = tuple(required_literals(p) for p in rule.match.patterns)
                starts = tuple(start_scanner(p) for p in rule.match.patterns)
                self.rules.append(CompiledRule(rule, pack, regexes, groups, guards, literals, starts))
        self.lexicons = Lexicons(lexicon_words)
        self._build_prefilter()
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

    def _new_group(self, phrases: list[str]) -> int:
        self._group_phrases.append(phrases)
        return len(self._group_phrases) - 1

    def _build_automaton(self) -> ahocorasick.Automaton | None:
        entries: dict[str, list[tuple[int, bool, str]]] = defaultdict(list)  # (index, is_term, term)
        for index, compiled in enumerate(self.rules):
            rule = compiled.rule
            for term in rule.match.terms:
                key = dense_form(term)
                spellings = pinyin_variants(key) if rule.match.pinyin else {key}
                for spelling in spellings:
                    entries[spelling].append((index, True, term))
        for group, phrases in enumerate(self._group_phrases):
            for phrase in phrases:
                key = dense_form(phrase)
                if key:
                    entries[key].append((group, False, phrase))
        # The regex literals ride in the same automaton (one pass over the message, not two): a
        # key's value is (length, term and exception entries, the literal itself or None).
        for literal in self._by_literal:
            entries.setdefault(literal, [])
        if not entries:
            return None
        automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            literal = key if key in self._by_literal else None
            automaton.add_word(key, (len(key), tuple(dict.fromkeys(values)), literal))
        automaton.make_automaton()
        return automaton

    def _build_prefilter(self) -> None:
        """Which rules must always be evaluated (a validator, or a regex with no known literal), and
        which rules each regex literal can wake."""
        always: set[int] = set()
        by_literal: dict[str, set[int]] = defaultdict(set)
        for index, compiled in enumerate(self.rules):
            if compiled.rule.match.validator:
                always.add(index)  # a validator finds hits of its own (PII, products in the context)
            for literals in compiled.regex_literals:
                if literals is None:
                    always.add(index)
                else:
                    for literal in literals:
                        by_literal[literal].add(index)
        self._always = frozenset(always)
        self._by_literal = {literal: frozenset(indices) for literal, indices in by_literal.items()}

    def scan(self, dense: str) -> ScanResult:
        result = ScanResult(literals=set())
        if self.automaton is None or not dense:
            return result
        found, terms, exceptions = result.literals, result.terms, result.exceptions
        for end_index, (length, values, literal) in self.automaton.iter(dense):
            if literal is not None:
                found.add(literal)
            if values:
                start = end_index - length + 1
                for index, is_term, term in values:
                    if is_term:
                        terms[index].append((start, end_index + 1, term))
                    else:
                        exceptions[index].append((start, end_index + 1))
        return result

    def candidates(self, scan: ScanResult) -> frozenset[int] | set[int]:
        """Indices of the rules that can have a hit in the scanned text: a term hit, a regex whose
        literals are present, or a validator. Every other rule would find nothing."""
        if scan.literals is None:
            return set(range(len(self.rules)))
        live = set(self._always)
        live.update(scan.terms)
        for literal in scan.literals:
            live.update(self._by_literal[literal])
        return live

    def rule_hits(self, index: int, doc: NormalizedText, scan: ScanResult) -> list[tuple[int, int, str]]:
        """Dense spans of one rule's terms and regexes that no exception of the rule encloses."""
        compiled = self.rules[index]
        spans = list(scan.terms.get(index, ()))
        present = scan.literals
        dense = doc.dense
        for rx, literals, starts in zip(compiled.regexes, compiled.regex_literals, compiled.regex_starts, strict=True):
            if present is not None and literals is not None and literals.isdisjoint(present):
                continue  # none of the literals every match needs is in the text
            if starts is not None:
                spans.extend(_matches_from(rx, starts, dense))
            else:
                spans.extend((m.start(), m.end(), "") for m in rx.finditer(dense) if m.end() > m.start())
        if not spans:
            return []
        pack_group, rule_group = compiled.guard_groups
        guards = [*scan.exceptions.get(pack_group, ()), *scan.exceptions.get(rule_group, ())]
        # Exception regexes run only for a rule that has hits: most messages never pay for them.
        guards.extend(m.span() for rx in compiled.guard_regexes for m in rx.finditer(doc.dense))
        if guards:
            spans = _outside(spans, guards)
        return _drop_nested(spans)


def _matches_from(rx: re.Pattern[str], starts: re.Pattern[str], text: str) -> list[tuple[int, int, str]]:
    """``rx.finditer(text)``, trying ``rx`` only where ``starts`` finds a possible first character
    (its matches are never empty, so each search resumes where the last match ended)."""
    out: list[tuple[int, int, str]] = []
    find, match = starts.search, rx.match
    candidate = find(text)
    while candidate is not None:
        m = match(text, candidate.start())
        if m is None:
            candidate = find(text, candidate.start() + 1)
        else:
            out.append((m.start(), m.end(), ""))
            candidate = find(text, m.end())
    return out


def _outside(spans: list[tuple[int, int, str]], guards: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Spans that no guard encloses. Guards sorted by start with a running maximum of their ends:
    a span is enclosed when some guard starting at or before it reaches its end."""
    guards.sort()
    starts = [g[0] for g in guards]
    reach = list(accumulate((g[1] for g in guards), max))  # the furthest end so far
    kept = []
    for span in spans:
        i = bisect_right(starts, span[0])
        if i == 0 or reach[i - 1] < span[1]:
            kept.append(span)
    return kept


def _drop_nested(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop hits that sit inside a longer hit of the same rule ("保本" inside "保本保息")."""
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept and span[1] <= kept[-1][1]:
            continue
        kept.append(span)
    return kept
