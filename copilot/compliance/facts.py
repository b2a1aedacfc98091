"""What a message is about, worked out once per check and shared by the validators: the products
it names (from the context and from product codes in the text) and the shared word lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import ahocorasick

from copilot.compliance.normalize import NormalizedText, dense_form, fold
from copilot.compliance.pii import find_pii
from copilot.compliance.recognizers import PiiSpan
from copilot.domain import CheckContext
from copilot.knowledge import Product

# Product types that are investments (need the risk disclosure, count for suitability).
INVESTMENT_TYPES = frozenset({"wealth", "fund", "pension_wealth"})


def is_investment(product: Product) -> bool:
    return bool(product.risk_level) or product.product_type in INVESTMENT_TYPES


@dataclass(frozen=True, slots=True)
class ProductRef:
    code: str
    product: Product | None  # None: the code is not in the product catalogue
    start: int = 0  # span of the code in the original text; 0, 0 when it came from the context
    end: int = 0


class Lexicons:
    """Named word lists from the rule packs, held in dense (normalised) form."""

    def __init__(self, raw: dict[str, list[str]]):
        self.raw = raw
        self._dense = {
            name: tuple(d for d in (dense_form(w) for w in words) if d) for name, words in raw.items()
        }
        self._folded = {name: tuple(fold(w) for w in words) for name, words in raw.items()}
        # Lexicons named *_patterns hold regexes (over the dense text), not words.
        self._regex = {
            name: re.compile("|".join(f"(?:{p})" for p in words))
            for name, words in raw.items()
            if name.endswith("_patterns") and words
        }
        # One small automaton per word list: "does this sentence hold any of them" in one C pass.
        self._automata: dict[str, ahocorasick.Automaton] = {}
        for name, words in self._dense.items():
            if name in self._regex or not words:
                continue
            automaton = ahocorasick.Automaton()
            for word in words:
                automaton.add_word(word, word)
            automaton.make_automaton()
            self._automata[name] = automaton
        # And one automaton over every word list: which lists a sentence holds, in one pass, for
        # the sentence checks many rules share (prohibition_terms, fraud_warning_terms …).
        owners: dict[str, list[str]] = {}
        for name in self._automata:
            for word in self._dense[name]:
                owners.setdefault(word, [])
                if name not in owners[word]:
                    owners[word].append(name)
        self._combined: ahocorasick.Automaton | None = None
        if owners:
            self._combined = ahocorasick.Automaton()
            for word, names in owners.items():
                self._combined.add_word(word, tuple(names))
            self._combined.make_automaton()

    def names_in(self, text: str) -> frozenset[str]:
        """The word lists (not the *_patterns ones) that have a word in ``text``."""
        if self._combined is None or not text:
            return frozenset()
        return frozenset(name for _, names in self._combined.iter(text) for name in names)

    def any_of_in(self, names: tuple[str, ...] | list[str], text: str, present: frozenset[str]) -> bool:
        """``any(self.any_in(n, text) for n in names)`` given ``present = self.names_in(text)``:
        the same answer, in the same order (an unknown name still raises when reached)."""
        for name in names:
            if name in self._regex:
                if self._regex[name].search(text) is not None:
                    return True
            elif name in self._automata:
                if name in present:
                    return True
            else:
                self.words(name)  # raises for an unknown lexicon
        return False

    def words(self, name: str) -> tuple[str, ...]:
        if name not in self._dense:
            raise KeyError(f"规则包中没有名为 {name!r} 的词表 (lexicons)")
        return self._dense[name]

    def folded(self, name: str) -> tuple[str, ...]:
        """The words as written but folded (full-width, traditional, case), spaces kept."""
        return self._folded.get(name, ())

    def any_in(self, name: str, text: str) -> bool:
        if name in self._regex:
            return self._regex[name].search(text) is not None
        automaton = self._automata.get(name)
        if automaton is None:
            self.words(name)  # raises for an unknown lexicon
            return False
        return next(automaton.iter(text), None) is not None


_alias_cache: dict[int, tuple[dict[str, Product], list[tuple[str, str]]]] = {}


def product_aliases(catalog: dict[str, Product], prefixes: tuple[str, ...], stops: tuple[str, ...]):
    """Short names RMs write ("稳盈180天", "成长精选") for investment products, derived from the
    catalogue names: drop the issuer prefix, cut at the first category word. Longest first."""
    cached = _alias_cache.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    aliases: list[tuple[str, str]] = []
    for code, product in catalog.items():
        if not is_investment(product):
            continue
        name = fold(product.name).replace(" ", "")
        for prefix in prefixes:
            if name.startswith(prefix):
                name = name[len(prefix) :]
        cut = min((i for i in (name.find(s) for s in stops) if i >= 0), default=len(name))
        alias = name[:cut]
        if len(alias) >= 3:
            aliases.append((alias, code))
    aliases.sort(key=lambda a: -len(a[0]))
    _alias_cache[id(catalog)] = (catalog, aliases)
    return aliases


class MessageFacts:
    def __init__(self, doc: NormalizedText, ctx: CheckContext, lexicons: Lexicons, catalog_loader):
        self.doc = doc
        self.ctx = ctx
        self.lexicons = lexicons
        self._catalog_loader = catalog_loader
        self._sentence_memo: dict[tuple, bool] = {}
        self._deposit_memo: dict[tuple[int, int], bool] = {}
        self._names_memo: dict[tuple[int, int], frozenset[str]] = {}

    def _names_at(self, left: int, right: int) -> frozenset[str]:
        """The word lists present in ``doc.dense[left:right]`` (one sentence), found once."""
        names = self._names_memo.get((left, right))
        if names is None:
            names = self._names_memo[(left, right)] = self.lexicons.names_in(self.doc.dense[left:right])
        return names

    @cached_property
    def catalog(self) -> dict[str, Product]:
        return self._catalog_loader()

    @cached_property
    def pii(self) -> list[PiiSpan]:
        """Every PII span, found once so that overlapping kinds are resolved in one place."""
        return find_pii(self.doc.original, light=self.doc.light)

    @cached_property
    def products(self) -> list[ProductRef]:
        """Context codes first, then codes written in the text (with their spans), without repeats."""
        refs: dict[str, ProductRef] = {}
        for code in self.ctx.product_codes:
            code = code.strip().upper()
            if code and code not in refs:
                refs[code] = ProductRef(code, self.catalog.get(code))
        light = self.doc.light
        for pattern in self.lexicons.raw.get("product_code_patterns", []):
            for m in re.finditer(pattern, light, flags=re.IGNORECASE):
                code = m.group().upper()
                if code not in refs or refs[code].end == 0:
                    refs[code] = ProductRef(code, self.catalog.get(code), m.start(), m.end())
        prefixes = self.lexicons.folded("product_name_prefixes")
        stops = self.lexicons.folded("product_name_stops")
        for alias, code in product_aliases(self.catalog, prefixes, stops):
            pos = light.find(alias)
            if pos >= 0 and (code not in refs or refs[code].end == 0):
                refs[code] = ProductRef(code, self.catalog[code], pos, pos + len(alias))
        return list(refs.values())

    @cached_property
    def investment_products(self) -> list[ProductRef]:
        return [r for r in self.products if r.product is not None and is_investment(r.product)]

    @cached_property
    def unknown_products(self) -> list[ProductRef]:
        return [r for r in self.products if r.product is None]

    @cached_property
    def is_about_investing(self) -> bool:
        if self.investment_products:
            return True
        return self.lexicons.any_in("investment_context_terms", self.doc.dense)

    def sentence_mentions(self, lexicons: list[str], start: int, end: int) -> bool:
        """Whether the sentence around original span ``start:end`` (the whole text when the span is
        empty) holds a word of any of ``lexicons``."""
        if end <= start:
            return self.in_sentence_with(lexicons, self.doc, 0, len(self.doc.dense), whole=True)
        return self.in_sentence_with(lexicons, self.doc, *self.doc.dense_span(start, end))

    def in_sentence_with(
        self, lexicons: list[str], doc: NormalizedText, start: int, end: int, whole: bool = False
    ) -> bool:
        """Whether the dense sentence holding ``start:end`` has a word of any of ``lexicons``."""
        # Several hits (of several rules) often share one sentence: remembered by its bounds in
        # this message's text, or by the text itself for another document.
        if doc is self.doc:
            left, right = (0, len(doc.dense)) if whole else doc.sentence_bounds(start, end)
            key: tuple = (tuple(lexicons), left, right)
            hit = self._sentence_memo.get(key)
            if hit is None:
                present = self._names_at(left, right)
                hit = self.lexicons.any_of_in(lexicons, doc.dense[left:right], present)
                self._sentence_memo[key] = hit
            return hit
        text = doc.dense if whole else doc.sentence_of(start, end)
        key = (tuple(lexicons), text)
        if key not in self._sentence_memo:
            self._sentence_memo[key] = any(self.lexicons.any_in(name, text) for name in lexicons)
        return self._sentence_memo[key]

    @cached_property
    def names_only_deposits(self) -> bool:
        """The message names deposit products (by context or code) and no investment product."""
        return not self.investment_products and any(
            r.product is not None and r.product.product_type == "deposit" for r in self.products
        )

    def is_deposit_sentence(self, start: int, end: int) -> bool:
        """True when the dense sentence around ``start:end`` talks about deposits and nothing else:
        a true statement about a real deposit (保本保息 of a 定期存款) is not a wealth-product promise.
        In a message about a deposit product the sentence need not repeat the word 存款
        ("偏好本金安全" on the sheet of a 定期存款)."""
        if self.investment_products:
            return False
        bounds = self.doc.sentence_bounds(start, end)
        answer = self._deposit_memo.get(bounds)
        if answer is None:
            sentence = self.doc.dense[bounds[0] : bounds[1]]
            present = self._names_at(*bounds)
            lex = self.lexicons
            answer = not lex.any_of_in(("investment_terms",), sentence, present) and (
                self.names_only_deposits or lex.any_of_in(("deposit_terms",), sentence, present)
            )
            self._deposit_memo[bounds] = answer
        return answer
