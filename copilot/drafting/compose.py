"""The template writer's wording: a reply or a post from the approved script, a quote and the facts.

Only customer-facing text reaches a draft: an approved script's 话术 section, product-sheet
facts and investor-education passages, and the wording under prompts/templates. Playbooks and
the scripts' 适用场景/注意事项 sections are guidance for whoever writes, never copy.

Every draft is fitted to the persona's length limit (``fitting.py``): the greeting, the exact
facts, the "not a promise" sentence and the disclosure stay (``obligations.py``); the rest of an
approved script is kept sentence by sentence, most relevant to the question first, while it fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from copilot.config import Settings
from copilot.drafting.attempts import Attempt
from copilot.drafting.bigram_stats import knowledge_common_bigrams, topical_overlap
from copilot.drafting.brief import Brief, Source
from copilot.drafting.facts import ProductFacts, product_facts
from copilot.drafting.fitting import Layout, Piece
from copilot.drafting.grounding import extract_facts, known_facts
from copilot.drafting.obligations import fact_context, finish_text, mark_required
from copilot.drafting.prompting import render
from copilot.drafting.scripts import channel_vocabulary, load_script, script_wording
from copilot.drafting.snippets import quotable
from copilot.drafting.topics import arabic, kind_only
from copilot.knowledge import product_catalog, source_file
from copilot.text import bigrams, split_sentences

# How a script addresses its customer at the start ("阿姨，" "叔叔，" "阿姨您好，" "您好，"): replaced
# by the persona's greeting for this customer, so a reply does not call a man 阿姨.
_VOCATIVE = re.compile(
    r"^\s*(?:(?:阿姨|叔叔|大爷|大妈|奶奶|爷爷|老师|先生|女士|亲)(?:您好|你好)?|您好|你好)[，,！!～~\s]+"
)
_BENCHMARK_FIGURE = re.compile(r"业绩比较基准[^。！？]{0,20}?\d+(?:\.\d+)?%")
# A customer-facing passage must share at least this many bigrams with the question (or a post's
# theme and brief) to be quoted: below it, "利率为示例数据" gets attached to a voucher notice.
MIN_RELEVANCE = 3
SNIPPET_CHARS = 120
CHECK_CHARS = 16  # "您问的<this much of the question>，我核实后…"
NAMING_BONUS = 100.0  # a sentence naming what was asked is kept before any other that is not required


def script_text(brief: Brief, attempt: Attempt, settings: Settings) -> tuple[str, int]:
    """The chosen reply of the approved script, placeholders filled (customer-facing only)."""
    if brief.script is None or not attempt.script:
        return "", 0
    return script_wording(brief.script.block, brief.rm, settings.prompts_dir), brief.script.source.n


def _trusted_code(brief: Brief, attempt: Attempt) -> str:
    """The product the script in use was written for: its wording of that product is approved."""
    if brief.script is None or not attempt.script:
        return ""
    return brief.script.source.hit.product_code.upper()


def _customer_facing(brief: Brief, src: Source, settings: Settings) -> str:
    """The customer-facing text of a passage, or "" for internal material.

    Investor education; the sheet of a product this customer may be offered (an expired or
    unsuitable product's figures must not be quoted); in a reply, an approved script's 话术
    section, its placeholders filled (a welcome reserved for new contacts left out). Playbooks,
    regulations and the scripts' notes for staff are guidance, never copy.
    """
    hit = src.hit
    if hit.doc_type == "education":
        return hit.text
    if hit.doc_type == "product" and hit.product_code:
        facts = product_facts(hit.product_code, settings)
        ok = facts is not None and not facts.expired and facts.suits(brief.ceiling)
        return hit.text if ok else ""
    if hit.doc_type == "script" and hit.heading.startswith("话术") and brief.kind == "reply":
        # (a post quotes facts only: a script's "今天下午3点有讲座" would contradict its brief)
        script = load_script(source_file(hit.source_path, settings))
        if script is None or (script.product_code and script.product_code not in {p.code for p in brief.products}):
            return ""  # a script written for another product states that product's facts
        vocab = channel_vocabulary(settings.prompts_dir)
        blocks = script.usable_blocks(vocab, ["one_to_one", "group", "moments"])
        return "\n".join(_VOCATIVE.sub("", script_wording(b, brief.rm, settings.prompts_dir)) for b in blocks)
    return ""


def _quote(
    brief: Brief, settings: Settings, query: str, known: str = "", topic: str = "", sheets_only: bool = False
) -> tuple[str, int]:
    """The customer-facing passage that answers the question best, cut to a few whole sentences.

    A passage qualifies when it shares at least ``MIN_RELEVANCE`` topical bigrams with the
    question (the knowledge base's common ones such as 银行, 为准 and the product's own name left
    out), or any with the main scenario's education ``topic`` (净值 为什么会跌), or when its
    document's title names what the question names ("理财和存款是不是一回事" → 《理财和存款有什么
    区别》). The question decides among those. Sentences already said in ``known`` (a post's brief)
    are left out.
    """
    names = "".join(p.short_name for p in brief.products)
    q = bigrams(query)
    # Latin bigrams ("App") say nothing about the topic; nor do the products' own names
    common = knowledge_common_bigrams(settings) | bigrams(names) | {b for b in q if b.isascii()}
    seen = bigrams(known)
    # the names the customer used for what they ask about (薪享贷, 半价日), and the features the needs
    # asked about are called (保留余额 for "会不会扣走还房贷的钱"): a passage naming one answers
    said = [*_said(brief, query, settings), *brief.topics.feature_names]
    best: tuple[float, str, int] | None = None
    for src in brief.sources:
        passage = _customer_facing(brief, src, settings)
        if not passage or (sheets_only and src.hit.doc_type != "product"):
            continue
        text, faq = quotable(passage, f"{query} {' '.join(said)}", max_chars=SNIPPET_CHARS, topic=topic)
        # a benchmark figure is stated from the sheet's front matter with its basis (facts.md.j2),
        # never quoted in passing ("薪享月月盈…业绩比较基准年化2.10%-2.70%")
        kept = [s for s in split_sentences(text) if (not seen or _novel(s, seen)) and not _BENCHMARK_FIGURE.search(s)]
        text = "".join(kept)
        if not text:
            continue
        # an FAQ answer is about its question: the question counts with it
        asked = topical_overlap(query, f"{faq}{text}", common)
        on_topic = topical_overlap(topic, text, common) if topic else 0
        titled = len(q & bigrams(src.hit.title)) >= 2 and len(q & bigrams(text)) >= 2
        naming = sum(n in text for n in said)
        if asked < MIN_RELEVANCE and on_topic < 1 and not titled and not naming:
            continue
        score = asked + 0.5 * on_topic + 0.5 * len(q & bigrams(f"{src.hit.title}{src.hit.heading}")) + 3 * naming
        if src.hit.product_code and src.hit.product_code.upper() in {p.code for p in brief.products}:
            score += 2  # the sheet of the product asked about answers before a general note
        if best is None or score > best[0]:
            best = (score, text, src.n)
    return (best[1], best[2]) if best else ("", 0)


def _novel(sentence: str, seen: set[str]) -> bool:
    """Less than half of the sentence is already said."""
    b = bigrams(sentence)
    return bool(b) and len(b & seen) < len(b) / 2


def _education(brief: Brief) -> int:
    """The investor-education passage on 业绩比较基准, if retrieved (cited by the generic answer)."""
    src = next((s for s in brief.sources if s.hit.doc_type == "education" and "业绩比较基准" in s.hit.text), None)
    return src.n if src else 0


_LEAD = re.compile(r"^[^，,。！？]{0,6}好[，,]\s*")  # a greeting a finding's span may start with ("您好，")


def without(text: str, avoid: Iterable[str]) -> str:
    """``text`` without the sentences holding any of ``avoid`` (what the rule pack blocked)."""
    avoid = tuple(dict.fromkeys(x for a in avoid for x in (a, _LEAD.sub("", a)) if x.strip()))
    if not avoid or not text:
        return text
    lines = []
    for line in text.split("\n"):
        kept = [s for s in split_sentences(line) if not any(a in s for a in avoid)]
        if "".join(kept).strip() or not line.strip():
            lines.append("".join(kept))
    return "\n".join(lines)


def aim(brief: Brief) -> str:
    """What the reply should do (the main scenario's guidance): pieces that do it rank higher."""
    return brief.main.guidance if brief.main else ""


def _names(brief: Brief, p: ProductFacts, settings: Settings) -> tuple[str, ...]:
    """Every name a reply may call a product by: its short name and its sheet's aliases."""
    product = product_catalog(settings.knowledge_dir).get(p.code)
    return tuple(n for n in (p.short_name, *(product.aliases if product else ())) if n)


def _said(brief: Brief, query: str, settings: Settings) -> list[str]:
    """The names of what the customer asks about: a product's name or alias in the question, in the
    needs' own words (满减 → 周四合作商户权益日), or sharing a word with it (半价券 → 半价日)."""
    q = bigrams(query) - knowledge_common_bigrams(settings)
    names = [n for p in brief.products for n in _names(brief, p, settings)]
    close = [n for n in names if n in query or (len(n) <= 6 and bigrams(n) & q)]
    needs = brief.topics.query_terms
    return close or [n for n in names if len(n) >= 3 and n in needs]


def _asked_names(brief: Brief, p: ProductFacts, query: str, settings: Settings) -> tuple[str, ...]:
    """The names of ``p`` the question is about (半价日 for 半价券), else all its names."""
    said = set(_said(brief, query, settings))
    # "养老理财" says what kind, not which: a reply naming only the kind has not named 安享养老
    names = tuple(n for n in _names(brief, p, settings) if not kind_only(n)) or _names(brief, p, settings)
    return tuple(n for n in names if n in said) or names


_ROW = re.compile(r"^[^：，。]{2,12}：")
ROW_HEAD_CHARS = 45


def _row_head(quote: str) -> str:
    """A table row quoted as "周五影票日：每周五 10:00 起兑换，合作影院…" cut after its last cell
    that fits in ``ROW_HEAD_CHARS`` (a row is a list of cells: any prefix of it reads whole)."""
    first = split_sentences(quote)[0] if quote else ""
    if not _ROW.match(first) or len(first) <= ROW_HEAD_CHARS:
        return quote
    cut = first.rfind("，", 0, ROW_HEAD_CHARS)
    return f"{first[:cut]}。" if cut > 0 else first


def _strongly_asked(brief: Brief, products: list[ProductFacts], query: str, settings: Settings) -> bool:
    """The question names one of these products itself, or by a word a need's own words name too
    ("半价券": 半价日 is in the dining need's words) — not a word every payroll question shares (工资)."""
    q = bigrams(query) - knowledge_common_bigrams(settings)
    needs = brief.topics.query_terms
    return any(
        n in query or (n in needs and bigrams(n) & q) for p in products for n in _names(brief, p, settings)
    )


def _unnamed(brief: Brief, text: str, query: str, settings: Settings) -> list[ProductFacts]:
    """Products in scope (suitable, on sale) that ``text`` does not name as asked: a reply names
    what was asked (a script's "周五影票日见" does not answer a question about 周四's 满减)."""
    return [
        p for p in brief.products
        if not p.expired and p.suits(brief.ceiling)
        and not any(n in text for n in _asked_names(brief, p, query, settings))
    ]  # fmt: skip


def _keep_naming(pieces: list[Piece], brief: Brief, query: str, settings: Settings) -> None:
    """A shortened script keeps, for each product asked about, its most relevant sentence naming it
    ("薪享卡手机银行跨行转账免费…" in a reply about keeping a salary): the reply names what was asked."""
    for p in brief.products:
        if p.expired or not p.suits(brief.ceiling):
            continue
        names = _asked_names(brief, p, query, settings)
        naming = [x for x in pieces if any(n in x.text for n in names)]
        if naming and not any(x.required for x in naming):
            # first among the rest, not required: the exact facts that must stay come before it
            max(naming, key=lambda x: x.score).score += NAMING_BONUS


def _situational(script: str, brief: Brief, query: str, settings: Settings) -> str:
    """The script without sentences quoting a figure from the customer the script was written for
    ("3.5%在这个范围里" answers "邻居说一年能有3.5%"): this customer did not say it."""
    if brief.script is None:
        return script
    approved = load_script(source_file(brief.script.source.hit.source_path, settings))
    if approved is None or not approved.situation:
        return script
    # figures only (a product code in the situation holds "R2"), and none the sheets declare
    sheets = [f"{p.benchmark} {p.benchmark_basis} {p.term}" for p in brief.products]
    theirs = {f.key for f in extract_facts(approved.situation) if f.kind == "figure"} - known_facts([query, *sheets])
    if not theirs:
        return script
    lines = []
    for line in script.split("\n"):
        kept = [s for s in split_sentences(line) if not {f.key for f in extract_facts(s)} & theirs]
        lines.append("".join(kept))
    return "\n".join(lines)


def _check_subject(brief: Brief, attempt: Attempt) -> str:
    """What the RM will check, in the customer's own words (a short, masked excerpt); "" when the
    rule pack blocked words in them (the customer's "保本" is not ours to repeat)."""
    asked = re.sub(r"[\s，,。！!？?～~]+$", "", brief.message.strip())
    asked = re.split(r"[，,。！!？?]", asked)[0] if len(asked) > CHECK_CHARS else asked
    asked = asked if len(asked) <= CHECK_CHARS else asked[:CHECK_CHARS] + "…"
    return "" if any(asked in a for a in attempt.avoid) else asked


def _say_which(script: str, brief: Brief, settings: Settings) -> str:
    """A script that calls the product asked about by its kind only ("这款养老理财") says which one,
    by the product's longer name that ends with that kind (安享养老理财): two characters, no sentence."""
    catalog = product_catalog(settings.knowledge_dir)
    for p in brief.products:
        names = _names(brief, p, settings)
        if p.code not in catalog or any(n in script for n in names if not kind_only(n)):
            continue
        for kind in (n for n in names if kind_only(n) and n in script):
            longer = next((a for a in catalog[p.code].aliases if a.endswith(kind) and a != kind), "")
            if longer:
                return script.replace(kind, longer, 1)
    return script


def layout_text(layout: Layout) -> str:
    return "".join(p.text for p in layout.pieces)


def compose_reply(brief: Brief, attempt: Attempt, settings: Settings) -> str:
    """The template writer's reply, fitted to the persona's length limit."""
    customer = brief.customer
    greeting = brief.persona.greeting(customer.age_band if customer else None)
    query = arabic(" ".join([*(t.text for t in brief.history[-2:] if t.role == "customer"), brief.message]))
    main = brief.main
    # a question on what knowledge/ does not cover is not answered with the nearest passage or script
    # (a fraud warning that mentions 医保 still warns: only a general question's answer is withheld)
    unanswered = brief.topics.unanswered and not brief.products and (main is None or main.quote == "answer")
    script, script_n = ("", 0) if attempt.plain or unanswered else script_text(brief, attempt, settings)
    trusted = _trusted_code(brief, attempt)
    layout = Layout()
    layout.add(f"{greeting}，", glue=True, required=True)
    # the needs asked about (随时取, 每月存两千) say which passage answers a question no scenario lists
    topic = (main.education if main else "") or brief.topics.query_terms
    if script:
        script = without(_VOCATIVE.sub("", script, count=1), attempt.avoid)
        script = _situational(script, brief, query, settings)
        script = _say_which(script, brief, settings)
        script, missing = fact_context(brief, script, trusted)
        pieces = layout.add(script, cite=script_n, query=query, aim=aim(brief))
        mark_required(pieces, brief, trusted)
        _keep_naming(pieces, brief, query, settings)
        unnamed = _unnamed(brief, script, query, settings)
        if unnamed and not attempt.plain:
            # the script does not name what was asked (半价券 → 周三半价日): the sheet's passage does
            # (from its sheet: another script's wording is written for another day's benefit)
            quote, quote_n = _quote(brief, settings, query, topic=brief.topics.query_terms or topic, sheets_only=True)
            quote = without(quote, attempt.avoid)
            # it must stay when the customer named it and a need says so (半价券 → 半价日); else it
            # comes before the script's other sentences, if it fits
            strong = _strongly_asked(brief, unnamed, query, settings)
            if strong:  # beside a script, a table row is said short: its name and first cells
                quote = _row_head(quote)
            for piece in layout.add(quote, cite=quote_n, query=query, weight=2.0, required=strong):
                piece.score += NAMING_BONUS
            still = [(p, brief.source_for_product(p)) for p in _unnamed(brief, f"{script}{quote}", query, settings)]
            if still:
                # named by its kind only (养老理财) and the passage did not say which: the intro must
                still_strong = strong and _strongly_asked(brief, [p for p, _ in still], query, settings)
                intro = render("product_intro.md.j2", settings, products=still)
                for piece in layout.add(intro, query=query, required=still_strong):
                    piece.score += NAMING_BONUS
        features = brief.topics.feature_names
        if features and not attempt.plain and not any(f in layout_text(layout) for f in features):
            # the script does not say the feature asked about (月月盈's benchmark script for "会不会扣走
            # 还房贷的钱"): the passage that names it (保留余额) answers, before the script's other lines
            quote, quote_n = _quote(brief, settings, query, topic=brief.topics.query_terms)
            quote = without(quote, attempt.avoid)
            if any(f in quote for f in features):
                for piece in layout.add(quote, cite=quote_n, query=query, weight=2.0, required=True):
                    piece.score += NAMING_BONUS
    else:
        _, missing = fact_context(brief, "")
        quote, quote_n = ("", 0)
        if main is not None and main.quote != "none" and not attempt.plain and not unanswered:
            quote, quote_n = _quote(brief, settings, query, topic=topic)
            quote = without(quote, attempt.avoid)
        opening = render(
            "compose_reply.md.j2",
            settings,
            rm=brief.rm,
            main=brief.main_id,
            scenario_ids=brief.scenario_ids,
            products=list(brief.products),
            has_answer=bool(quote) or missing.any_product_fact or bool(brief.products),
            education_n=_education(brief),
            asked=_check_subject(brief, attempt),
        )
        layout.add(opening, required=True)
        # a product the reply states no facts for is still named (a volatility reply about 月月盈)
        stated = {p.code for p, _ in missing.investments}
        named = [(p, brief.source_for_product(p)) for p in brief.products if not p.expired and p.suits(brief.ceiling)
                 and (not p.is_investment or p.code not in stated)]  # fmt: skip
        if named:
            layout.add(render("product_intro.md.j2", settings, products=named), required=True)
        # the passage that answers a general question is the answer, unless product facts are
        answers = main is not None and main.quote == "answer"
        layout.add(quote, cite=quote_n, query=query, weight=2.0, required=answers and not missing.any_product_fact)
    layout.add(missing.footer(brief, settings, name_asked=True), required=True)
    if not script and brief.persona.sign_off:
        layout.add(brief.persona.sign_off, required=True)
    return finish_text(layout, brief)


def compose_post(brief: Brief, attempt: Attempt, settings: Settings) -> str:
    """The template writer's post copy: the calendar's theme and brief as written (operations
    wrote them for customers), else the approved group script for the theme; a relevant passage
    of investor education or a product sheet where it adds something; the exact facts."""
    query = f"{brief.theme} {brief.post_brief}".strip()
    plain = attempt.plain or bool(brief.post_brief)
    script, script_n = ("", 0) if plain else script_text(brief, attempt, settings)
    trusted = _trusted_code(brief, attempt)
    layout = Layout()
    if script:
        script, missing = fact_context(brief, without(script, attempt.avoid), trusted)
        pieces = layout.add(script, cite=script_n, query=query)
        mark_required(pieces, brief, trusted)
    else:
        _, missing = fact_context(brief, brief.post_brief)
        layout.add(
            render("compose_post.md.j2", settings, theme=brief.theme, brief=brief.post_brief), required=True
        )
        if not attempt.plain:
            known = f"{brief.theme}{brief.post_brief}"
            support, support_n = _quote(brief, settings, query, known=known)
            layout.add(without(support, attempt.avoid), cite=support_n, query=query, weight=2.0)
    layout.add(missing.footer(brief, settings, reply=False), required=True)
    if not script and brief.persona.sign_off:
        layout.add(brief.persona.sign_off, required=True)
    return finish_text(layout, brief)
