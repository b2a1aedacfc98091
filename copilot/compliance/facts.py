"""What a message is about, worked out once per check and shared by the validators: the products
it names (from the context and from product codes in the text) and the shared word lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from copilot.domain import CheckContext
from copilot.knowledge import Product
from copilot.compliance.normalize import NormalizedText, dense_form
from copilot.compliance.pii import find_pii
from copilot.compliance.recognizers import PiiSpan

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
        self._dense = {name: tuple(d for d in (dense_form(w) for w in words) if d) for name, words in raw.items()}
        # Lexicons named *_patterns hold regexes (over the dense text), not words.
        self._regex = {
            name: re.compile("|".join(f"(?:{p})" for p in words))
            for name, words in raw.items()
            if name.endswith("_patterns") and words
        }

    def words(self, name: str) -> tuple[str, ...]:
        if name not in self._dense:
            raise KeyError(f"规则包中没有名为 {name!r} 的词表 (lexicons)")
        return self._dense[name]

    def any_in(self, name: str, text: str) -> bool:
        if name in self._regex:
            return self._regex[name].search(text) is not None
        return any(w in text for w in self.words(name))


class MessageFacts:
    def __init__(self, doc: NormalizedText, ctx: CheckContext, lexicons: Lexicons, catalog_loader):
        self.doc = doc
        self.ctx = ctx
        self.lexicons = lexicons
        self._catalog_loader = catalog_loader

    @cached_property
    def catalog(self) -> dict[str, Product]:
        return self._catalog_loader()

    @cached_property
    def pii(self) -> list[PiiSpan]:
        """Every PII span, found once so that overlapping kinds are resolved in one place."""
        return find_pii(self.doc.original)

    @cached_property
    def products(self) -> list[ProductRef]:
        """Context codes first, then codes written in the text (with their spans), without repeats."""
        refs: dict[str, ProductRef] = {}
        for code in self.ctx.product_codes:
            code = code.strip().upper()
            if code and code not in refs:
                refs[code] = ProductRef(code, self.catalog.get(code))
        for pattern in self.lexicons.raw.get("product_code_patterns", []):
            for m in re.finditer(pattern, self.doc.light, flags=re.IGNORECASE):
                code = m.group().upper()
                if code not in refs or refs[code].end == 0:
                    refs[code] = ProductRef(code, self.catalog.get(code), m.start(), m.end())
        return list(refs.values())

    @cached_property
    def investment_products(self) -> list[ProductRef]:
        return [r for r in self.products if r.product is not None and is_investment(r.product)]

    @cached_property
    def unknown_products(self) -> list[ProductRef]:
        return [r for r in self.products if r.product is None]

    @cached_property
    def is_about_investing(self) -> bool:
        return bool(self.investment_products) or self.lexicons.any_in("investment_context_terms", self.doc.dense)

    def is_deposit_sentence(self, start: int, end: int) -> bool:
        """True when the dense sentence around ``start:end`` talks about deposits and nothing else:
        a true statement about a real deposit (保本保息 of a 定期存款) is not a wealth-product promise."""
        if self.investment_products:
            return False
        sentence = self.doc.sentence_of(start, end)
        return self.lexicons.any_in("deposit_terms", sentence) and not self.lexicons.any_in(
            "investment_terms", sentence
        )
