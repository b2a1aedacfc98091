"""Literal prefilter for the rules' regexes: the literals one of which every match must contain.

Most rule regexes start with or contain a plain alternation of words (``(理财|基金|净值型)…存款保险``).
A message that holds none of those words cannot match, so the matcher skips the regex (and a rule
whose regexes and terms all miss is not evaluated at all). ``required_literals`` reads the parsed
pattern (the ``re`` module's own parser) once per rule-pack load; one Aho–Corasick pass over the
message then tells which literals are present.

The analysis is conservative: any construct it does not understand (a class such as ``\\d`` or
``[^。]``, a back-reference, a case-insensitive flag) contributes no literal, and a pattern with no
literal it can prove necessary gets ``None`` and always runs. Lookarounds consume nothing, so they
add nothing to what a match contains and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

# An exact set (every string a piece can match) is expanded only while it stays this small.
MAX_EXACT = 64
# A branch's literals are the union of its alternatives'; past this size the branch gives none.
MAX_REQUIRED = 512
# Character ranges ([1-6]) are spelled out up to this many characters.
MAX_RANGE = 16

_ZERO_WIDTH = {sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT}
_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", sre_c.MAX_REPEAT)}
_CASE_FLAGS = re.IGNORECASE | re.LOCALE


class _Unsupported(Exception):
    """A construct that changes what a literal means (case-insensitive matching)."""


@dataclass(frozen=True, slots=True)
class _Info:
    exact: frozenset[str] | None  # every string the piece can match, when that set is small
    required: frozenset[str] | None  # every match contains one of these; None: nothing known


_NOTHING = _Info(None, None)
_EMPTY = _Info(frozenset({""}), None)


def _usable(strings: frozenset[str] | set[str] | None) -> bool:
    return bool(strings) and "" not in strings  # type: ignore[operator]


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective set: longest shortest literal (rarer in text), then fewest literals."""
    usable = [c for c in candidates if _usable(c)]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(s) for s in c), -len(c)))


def _sequence(items) -> _Info:
    run: frozenset[str] = frozenset({""})  # exact strings of the consecutive exact pieces so far
    candidates: list[frozenset[str]] = []
    all_exact = True
    for op, av in items:
        info = _node(op, av)
        if info.exact is not None and len(run) * len(info.exact) <= MAX_EXACT:
            run = frozenset(a + b for a in run for b in info.exact)
            continue
        all_exact = False
        candidates.append(run)
        if info.exact is not None:
            run = info.exact
        else:
            if info.required is not None:
                candidates.append(info.required)
            run = frozenset({""})
    candidates.append(run)
    return _Info(run if all_exact else None, _best(candidates))


def _char_class(items) -> _Info:
    chars: set[str] = set()
    for op, av in items:
        if op is sre_c.LITERAL:
            chars.add(chr(av))
        elif op is sre_c.RANGE and av[1] - av[0] < MAX_RANGE:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY (\d is any Unicode digit), a wide range
            return _NOTHING
    if not chars or len(chars) > MAX_EXACT:
        return _NOTHING
    exact = frozenset(chars)
    return _Info(exact, exact)


def _node(op, av) -> _Info:
    if op is sre_c.LITERAL:
        exact = frozenset({chr(av)})
        return _Info(exact, exact)
    if op is sre_c.IN:
        return _char_class(av)
    if op in _ZERO_WIDTH:
        return _EMPTY
    if op is sre_c.SUBPATTERN:
        _group, add_flags, _del_flags, pattern = av
        if add_flags & _CASE_FLAGS:
            raise _Unsupported
        return _sequence(pattern)
    if op is getattr(sre_c, "ATOMIC_GROUP", None):
        return _sequence(av)
    if op is sre_c.BRANCH:
        branches = [_sequence(b) for b in av[1]]
        exacts = [b.exact for b in branches]
        exact = None
        if all(e is not None for e in exacts):
            union = frozenset().union(*exacts)  # type: ignore[arg-type]
            exact = union if len(union) <= MAX_EXACT else None
        required = None
        if all(_usable(b.required) for b in branches):
            union = frozenset().union(*(b.required for b in branches))  # type: ignore[misc]
            required = union if len(union) <= MAX_REQUIRED else None
        if exact is not None and _usable(exact):
            required = _best([exact, required] if required else [exact])
        return _Info(exact, required)
    if op in _REPEATS:
        low, high, pattern = av
        inner = _sequence(pattern)
        if low == 0:
            if high == 1 and inner.exact is not None:
                return _Info(inner.exact | {""}, None)
            return _NOTHING
        return _Info(inner.exact if low == high == 1 else None, inner.required)
    return _NOTHING  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, GROUPREF_EXISTS, …


def _prefix_node(op, av) -> frozenset[str] | None:
    """Strings one of which every match of the piece starts with (None: unknown)."""
    if op is sre_c.SUBPATTERN:
        if av[1] & _CASE_FLAGS:
            raise _Unsupported
        return _prefix_sequence(av[3])
    if op is getattr(sre_c, "ATOMIC_GROUP", None):
        return _prefix_sequence(av)
    if op is sre_c.BRANCH:
        prefixes = [_prefix_sequence(b) for b in av[1]]
        if any(p is None for p in prefixes):
            return None
        union = frozenset().union(*prefixes)  # type: ignore[arg-type]
        return union if len(union) <= MAX_REQUIRED else None
    if op in _REPEATS and av[0] >= 1:
        return _prefix_sequence(av[2])
    info = _node(op, av)
    return info.exact if _usable(info.exact) else None


def _prefix_sequence(items) -> frozenset[str] | None:
    run: frozenset[str] = frozenset({""})
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # a lookaround consumes nothing: the match starts with what follows it
        info = _node(op, av)
        if info.exact is not None and len(run) * len(info.exact) <= MAX_EXACT:
            run = frozenset(a + b for a in run for b in info.exact)
            continue
        if run == frozenset({""}):
            return _prefix_node(op, av)
        break
    return run if _usable(run) else None


def _without_containing(strings: frozenset[str] | None) -> frozenset[str] | None:
    """Drop literals that hold another one: a text holding "个存款" holds "存款"."""
    if strings is None:
        return None
    return frozenset(s for s in strings if not any(t != s and t in s for t in strings))


def _without_extensions(strings: frozenset[str] | None) -> frozenset[str] | None:
    """Drop literals that start with another one: a match starting "就是一个" starts "就是"."""
    if strings is None:
        return None
    return frozenset(s for s in strings if not any(t != s and s.startswith(t) for t in strings))


def prefix_literals(pattern: str) -> frozenset[str] | None:
    """Non-empty literals one of which every match of ``pattern`` starts with; ``None`` when no
    such set is known. A regex with such a set can be tried only where one of them occurs."""
    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & _CASE_FLAGS:
            return None
        return _without_extensions(_prefix_sequence(parsed))
    except (_Unsupported, re.error, RecursionError):
        return None


def _re_has_prefix_scan(parsed) -> bool:
    """Whether ``re`` itself skips ahead to candidate positions for this pattern: it does when the
    pattern starts (inside capturing groups) with a literal, a character class, or a branch whose
    alternatives all start with a literal. Otherwise it tries a match at every position."""
    items = list(parsed)
    while items and items[0][0] is sre_c.SUBPATTERN:
        items = list(items[0][1][3])
    if not items:
        return False
    op, av = items[0]
    if op in (sre_c.LITERAL, sre_c.IN):
        return True
    if op is sre_c.BRANCH:
        return all(branch and branch[0][0] is sre_c.LITERAL for branch in av[1])
    return False


def start_scanner(pattern: str) -> re.Pattern[str] | None:
    """A character class matching the first character of every match of ``pattern``, for a pattern
    that ``re`` would otherwise try at every position (one led by a look-around, or by a branch with
    an alternative that is not a plain literal). ``None`` when ``re`` skips ahead by itself or no
    first character is known. Trying the pattern only where the class matches finds the same
    matches, in the same order."""
    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & _CASE_FLAGS or _re_has_prefix_scan(parsed):
            return None
        prefixes = _prefix_sequence(parsed)
    except (_Unsupported, re.error, RecursionError):
        return None
    if not _usable(prefixes):
        return None
    firsts = sorted({p[0] for p in prefixes})  # type: ignore[union-attr]
    return re.compile("[" + "".join(re.escape(c) for c in firsts) + "]")


def required_literals(pattern: str) -> frozenset[str] | None:
    """Literals one of which every non-empty match of ``pattern`` contains; ``None`` when no such
    set is known (the regex must then always run)."""
    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & _CASE_FLAGS:
            return None
        return _without_containing(_sequence(parsed).required)
    except (_Unsupported, re.error, RecursionError):
        return None
