"""What every draft must state and keep (exact facts, steer, disclosure), and its last touches.

Facts that must be exact — a product's risk level, its 业绩比较基准 with the basis and the
no-promise sentence, the risk disclosure, "this product is not for you" — are rendered from the
product sheet through prompts/templates/facts.md.j2, never left to a writer: ``fact_context``
cites what a text already states and returns what is still missing (``MissingFacts``), and
``mark_required`` tells the fitter which sentences must stay. Both writers' drafts end here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from copilot.config import Settings
from copilot.drafting.brief import Brief
from copilot.drafting.facts import ProductFacts
from copilot.drafting.fitting import DISCLOSURE, Layout, Piece, visible_length
from copilot.drafting.prompting import render
from copilot.drafting.topics import kind_only, own_name
from copilot.text import sentence_end

_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3\u2190-\u21ff\u2300-\u23ff]")
# A sentence saying a figure or benchmark is no promise, or that principal and returns are not guaranteed.
NO_PROMISE = re.compile(r"不是(?:收益)?承诺|不构成(?:对收益的|收益)?承诺|不承诺|不代表.{0,8}未来表现|不保证|不保本")
# Words that make a draft about investing: then it carries the disclosure, whatever else happens.
_INVESTING = re.compile(r"理财|基金")
_ADVISED_AGAINST = re.compile(r"不能.{0,6}推荐|不推荐|不适合")

Cited = tuple[ProductFacts, int]  # a product and the number of its sheet's source (0: none)


@dataclass(frozen=True)
class MissingFacts:
    """What a text does not state yet, for prompts/templates/facts_footer.md.j2."""

    investments: tuple[Cited, ...] = ()  # benchmark, basis and risk level to state
    unsuitable: tuple[Cited, ...] = ()  # "this is not for you"
    expired: tuple[Cited, ...] = ()
    alternatives: tuple[Cited, ...] = ()  # the suitable products to steer to
    disclose: bool = False

    @property
    def any_product_fact(self) -> bool:
        return bool(self.investments or self.unsuitable or self.expired)

    def footer(self, brief: Brief, settings: Settings, *, reply: bool = True, name_asked: bool = False) -> str:
        """The exact statements still to add (a post names no unsuitable product nor alternative).

        ``name_asked``: an unsuitable product the customer named is called by its name in the "not
        for you" sentence (the template writer's reply answers what was asked; a model's text is
        not shown it, so it is not tempted to describe the product)."""
        customer = brief.customer.risk_level if brief.customer and reply else None
        return render(
            "facts_footer.md.j2",
            settings,
            asked=asked_names(brief, settings) if name_asked else {},
            customer_risk=customer,
            ceiling=brief.ceiling,
            investments=list(self.investments),
            unsuitable=list(self.unsuitable) if reply else [],
            expired=list(self.expired),
            alternatives=list(self.alternatives) if reply else [],
            disclose=self.disclose,
        )


def asked_names(brief: Brief, settings: Settings) -> dict[str, str]:
    """Product code -> the name the customer called it by (an alias or the short name in the message)."""
    from copilot.knowledge import product_catalog

    catalog = product_catalog(settings.knowledge_dir)
    said = " ".join([brief.message, *(t.text for t in brief.history if t.role == "customer")])
    out: dict[str, str] = {}
    for p in brief.products:
        names = [*(catalog[p.code].aliases if p.code in catalog else []), p.short_name]
        hit = next((n for n in sorted(names, key=len, reverse=True) if n and n in said), "")
        if hit and kind_only(hit) and p.code in catalog:
            hit = own_name(catalog[p.code])  # "您问的股票基金" → "您问的成长精选": say which one
        if hit:
            out[p.code] = hit
    return out


def strip_emoji(text: str) -> str:
    text = _EMOJI.sub("", text)
    return re.sub(r"[ \t]+\n", "\n", re.sub(r"^[ \t]+", "", text, flags=re.M))


def cite_in_place(text: str, phrase: str, n: int) -> tuple[str, bool]:
    """Put [n] at the end of the first sentence containing ``phrase`` (before its full stop)."""
    i = text.find(phrase)
    if i < 0:
        return text, False
    end = sentence_end(text, i + len(phrase))
    if re.match(r"\[\d{1,2}\]", text[end:]) or re.search(r"\[\d{1,2}\]$", text[:end]):
        return text, True  # already cited there
    return f"{text[:end]}[{n}]{text[end:]}", True


def fact_context(brief: Brief, text: str, trusted_code: str = "") -> tuple[str, MissingFacts]:
    """Cite facts ``text`` already states; return what is still missing.

    ``text`` is an approved script or a model draft. A fact counts as stated when its exact wording
    (benchmark figure, product name with "不能…推荐") is there; a model's paraphrase is not trusted.
    An approved script written for the product itself (``trusted_code``) is: compliance signed
    off its wording of that product's 业绩比较基准.
    """
    investments: list[Cited] = []
    unsuitable: list[Cited] = []
    expired: list[Cited] = []
    for p in brief.products:
        n = brief.source_for_product(p)
        if p.expired:
            expired.append((p, n))
        elif not p.suits(brief.ceiling):
            if not (p.risk_level in text and _ADVISED_AGAINST.search(text)):
                unsuitable.append((p, n))
        elif p.is_investment:
            figure = p.benchmark.replace("年化", "")
            if p.benchmark and figure in text:
                text, _ = cite_in_place(text, figure, n) if n else (text, True)
            elif p.code == trusted_code and "业绩比较基准" in text:
                text, _ = cite_in_place(text, "业绩比较基准", n) if n else (text, True)
            elif brief.states_facts and not (p.code in brief.needed and "业绩比较基准" not in text):
                # (a product only a need points to is named with what it is, not presented with its
                # benchmark — unless the text speaks of one: then it is stated with its basis)
                investments.append((p, n))
        elif n:
            text, _ = cite_in_place(text, p.short_name, n)
    alternatives: list[Cited] = []
    if brief.alternatives and (any(s.offers_alternatives for s in brief.scenarios) or unsuitable or expired):
        for a in brief.alternatives:
            n = brief.source_for_product(a)
            if a.short_name in text:
                if n:
                    text, _ = cite_in_place(text, a.short_name, n)
            else:
                alternatives.append((a, n))
    missing = MissingFacts(
        investments=tuple(investments),
        unsuitable=tuple(unsuitable),
        expired=tuple(expired),
        alternatives=tuple(alternatives),
        disclose=brief.needs_disclosure and DISCLOSURE not in text,
    )
    return text, missing


def mark_required(pieces: list[Piece], brief: Brief, trusted_code: str) -> None:
    """In an approved script's (or a model's) wording, what must stay when it is fitted:

    - what states the exact facts of the products in scope (their 业绩比较基准 and risk level,
      when the main topic calls for them; "this is not for you" for an unsuitable one), and the
      suitable products it steers to: ``fact_context`` counted them as said, so they are not
      added again;
    - the "not a promise" sentence that goes with a stated benchmark, and, when a scenario asks
      for it (``keep_a_denial``: a 保本/收益 answer), at least the most relevant one;
    - the risk disclosure, when the draft needs one;
    - what the reply is for: sentences holding the main scenario's ``keep`` words.
    """
    keep = brief.main.keep if brief.main else []
    steer = bool(brief.alternatives) and brief.steers
    for piece in pieces:
        t = piece.text
        for p in brief.products:
            if p.expired:
                continue
            if not p.suits(brief.ceiling):
                if p.risk_level in t and _ADVISED_AGAINST.search(t):
                    piece.required = True
            elif p.is_investment and brief.states_facts:
                figure = p.benchmark.replace("年化", "")
                if (figure and figure in t) or (p.code == trusted_code and "业绩比较基准" in t):
                    piece.required = True
                if p.risk_level and p.risk_level in t and "风险" in t:
                    piece.required = True
        if steer and any(a.short_name in t for a in brief.alternatives):
            piece.required = True
        if DISCLOSURE in t and brief.needs_disclosure:
            piece.required = True
        if any(w in t for w in keep):
            piece.required = True  # what this reply is for (prompts/scenarios.yaml: keep)
    for i, piece in enumerate(pieces):
        if "业绩比较基准" not in piece.text or NO_PROMISE.search(piece.text):
            continue
        # a figure stated without its "not a promise" sentence would be worse than neither
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is not None and nxt.section == piece.section and NO_PROMISE.search(nxt.text):
            piece.needs.add(nxt.index)
            nxt.required = nxt.required or piece.required
    if any(s.keep_a_denial for s in brief.scenarios):
        denials = [p for p in pieces if NO_PROMISE.search(p.text)]
        if denials and not any(p.required for p in denials):
            max(denials, key=lambda p: p.score).required = True


def measure(brief: Brief) -> Callable[[str], int]:
    """A draft's length as the evaluation counts it (no markers, disclosure or sign-off)."""
    sign_off = brief.persona.sign_off
    return lambda text: visible_length(text, [sign_off])


def finish_text(layout: Layout, brief: Brief) -> str:
    """Fit the layout to the persona's limit; one disclosure, always there for investing; emoji rule."""
    text = layout.fit(brief.persona.max_chars, measure(brief))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if text.count(DISCLOSURE) > 1:  # a quoted passage already said it: drop the added line
        text = re.sub(rf"\n{DISCLOSURE}。?(?=\n|$)", "", text, count=text.count(DISCLOSURE) - 1)
    if _INVESTING.search(text.replace(DISCLOSURE, "")) and DISCLOSURE not in text:
        text = f"{text}\n{DISCLOSURE}。"  # a draft about investing always carries the disclosure
    return strip_emoji(text) if brief.persona.emoji == "none" else text
