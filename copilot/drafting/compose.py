"""Deterministic text: the template writer's drafts, and the exact facts added to model drafts.

Facts that must be exact — a product's risk level, its 业绩比较基准 with the basis and the
no-promise sentence, the risk disclosure, "this product is not for you" — are rendered from the
product sheet through prompts/templates/facts.md.j2, never left to a model.

Only customer-facing text reaches a draft: an approved script's 话术 section, product-sheet
facts and investor-education passages, and the wording under prompts/templates. Playbooks and
the scripts' 适用场景/注意事项 sections are guidance for whoever writes, never copy.

Every draft is fitted to the persona's length limit (``fitting.py``): the greeting, the exact
facts, the "not a promise" sentence and the disclosure stay; the rest of an approved script is
kept sentence by sentence, most relevant to the question first, while it fits.
"""

from __future__ import annotations

import re
from pathlib import Path

from copilot.config import Settings
from copilot.drafting.facts import ProductFacts, product_facts
from copilot.drafting.fitting import DISCLOSURE, Layout, Piece, visible_length
from copilot.drafting.prompting import render
from copilot.drafting.scripts import channel_vocabulary, load_script, script_wording
from copilot.drafting.sources import common_bigrams, snippet, topical_overlap
from copilot.drafting.task import Source, WritingTask
from copilot.text import bigrams, sentence_end, split_sentences

_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3\u2190-\u21ff\u2300-\u23ff]")
# How a script addresses its customer at the start ("阿姨，" "叔叔，" "阿姨您好，" "您好，"): replaced
# by the persona's greeting for this customer, so a reply does not call a man 阿姨.
_VOCATIVE = re.compile(
    r"^\s*(?:(?:阿姨|叔叔|大爷|大妈|奶奶|爷爷|老师|先生|女士|亲)(?:您好|你好)?|您好|你好)[，,！!～~\s]+"
)
# A sentence saying a figure or benchmark is no promise, or that principal and returns are not guaranteed.
_NO_PROMISE = re.compile(r"不是(?:收益)?承诺|不构成(?:对收益的|收益)?承诺|不承诺|不代表.{0,8}未来表现|不保证|不保本")
_BENCHMARK_FIGURE = re.compile(r"业绩比较基准[^。！？]{0,20}?\d+(?:\.\d+)?%")
# Words that make a draft about investing: then it carries the disclosure, whatever else happens.
_INVESTING = re.compile(r"理财|基金")
# A customer-facing passage must share at least this many bigrams with the question (or a post's
# theme and brief) to be quoted: below it, "利率为示例数据" gets attached to a voucher notice.
MIN_RELEVANCE = 3
SNIPPET_CHARS = 120


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


def _n(task: WritingTask, p: ProductFacts) -> int:
    src = next((s for s in task.sources if s.hit.product_code.upper() == p.code), None)
    return src.n if src else 0


def main_scenario(task: WritingTask) -> str:
    """The main topic: the first scenario that is not an injection note."""
    return next((s.id for s in task.scenarios if s.id != "injection"), "general")


def _states_facts(task: WritingTask) -> bool:
    """Whether the main topic calls for the exact facts of the products in scope (prompts/scenarios.yaml)."""
    main = main_scenario(task)
    return next((s.product_facts for s in task.scenarios if s.id == main), True)


def _needs_disclosure(task: WritingTask) -> bool:
    ids = set(task.scenario_ids)
    return any(p.is_investment for p in [*task.products, *task.alternatives]) or bool(
        ids & {"guarantee", "suitability"}
    )


def _script_product(task: WritingTask) -> str:
    if task.script is None:
        return ""
    return task.script.hit.product_code.upper()


def fact_context(task: WritingTask, text: str, trusted_code: str = "") -> tuple[str, dict]:
    """Cite facts ``text`` already states; return what is still missing, for facts.md.j2.

    ``text`` is an approved script or a model draft. A fact counts as stated when its exact wording
    (benchmark figure, product name with "不能…推荐") is there; a model's paraphrase is not trusted.
    An approved script written for the product itself (``trusted_code``) is: compliance signed
    off its wording of that product's 业绩比较基准.
    """
    investments: list[tuple[ProductFacts, int]] = []
    unsuitable: list[tuple[ProductFacts, int]] = []
    expired: list[tuple[ProductFacts, int]] = []
    state = _states_facts(task)
    for p in task.products:
        n = _n(task, p)
        if p.expired:
            expired.append((p, n))
        elif not p.suits(task.ceiling):
            if not (p.risk_level in text and re.search(r"不能.{0,6}推荐|不推荐|不适合", text)):
                unsuitable.append((p, n))
        elif p.is_investment:
            figure = p.benchmark.replace("年化", "")
            if p.benchmark and figure in text:
                text, _ = cite_in_place(text, figure, n) if n else (text, True)
            elif p.code == trusted_code and "业绩比较基准" in text:
                text, _ = cite_in_place(text, "业绩比较基准", n) if n else (text, True)
            elif state:
                investments.append((p, n))
        elif n:
            text, _ = cite_in_place(text, p.short_name, n)
    alternatives: list[tuple[ProductFacts, int]] = []
    if task.alternatives and ("suitability" in task.scenario_ids or unsuitable or expired):
        for a in task.alternatives:
            n = _n(task, a)
            if a.short_name in text:
                if n:
                    text, _ = cite_in_place(text, a.short_name, n)
            else:
                alternatives.append((a, n))
    disclose = _needs_disclosure(task) and DISCLOSURE not in text
    return text, {
        "investments": investments,
        "unsuitable": unsuitable,
        "expired": expired,
        "alternatives": alternatives,
        "disclose": disclose,
    }


# --- what the template writer builds on ------------------------------------------------------------
def _script_text(task: WritingTask, settings: Settings) -> tuple[str, int]:
    """The chosen reply of the approved script, placeholders filled (customer-facing only)."""
    if task.script is None or task.script_block is None:
        return "", 0
    return script_wording(task.script_block, task.rm, settings.prompts_dir), task.script.n


def _customer_facing(task: WritingTask, src: Source, settings: Settings) -> str:
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
        ok = facts is not None and not facts.expired and facts.suits(task.ceiling)
        return hit.text if ok else ""
    if hit.doc_type == "script" and hit.heading.startswith("话术") and task.kind == "reply":
        # (a post quotes facts only: a script's "今天下午3点有讲座" would contradict its brief)
        script = load_script(Path(hit.source_path))
        if script is None or (script.product_code and script.product_code not in {p.code for p in task.products}):
            return ""  # a script written for another product states that product's facts
        vocab = channel_vocabulary(settings.prompts_dir)
        blocks = script.usable_blocks(vocab, ["one_to_one", "group", "moments"])
        return "\n".join(_VOCATIVE.sub("", script_wording(b, task.rm, settings.prompts_dir)) for b in blocks)
    return ""


def _general(task: WritingTask, settings: Settings, query: str, known: str = "", topic: str = "") -> tuple[str, int]:
    """The customer-facing passage that answers the question best, cut to a few whole sentences.

    A passage qualifies when it shares at least ``MIN_RELEVANCE`` topical bigrams with the
    question (the knowledge base's common ones such as 银行, 为准 and the product's own name left
    out), or any with the main scenario's education ``topic`` (净值 为什么会跌), or when its
    document's title names what the question names ("理财和存款是不是一回事" → 《理财和存款有什么
    区别》). The question decides among those. Sentences already said in ``known`` (a post's brief)
    are left out.
    """
    names = "".join(p.short_name for p in task.products)
    common = common_bigrams(settings) | bigrams(names)
    seen = bigrams(known)
    q = bigrams(query)
    best: tuple[float, str, int] | None = None
    for src in task.sources:
        passage = _customer_facing(task, src, settings)
        if not passage:
            continue
        text = snippet(passage, f"{query} {topic}", max_chars=SNIPPET_CHARS, min_overlap=1, whole=True)
        # a benchmark figure is stated from the sheet's front matter with its basis (facts.md.j2),
        # never quoted in passing ("薪享月月盈…业绩比较基准年化2.10%-2.70%")
        kept = [s for s in split_sentences(text) if (not seen or _novel(s, seen)) and not _BENCHMARK_FIGURE.search(s)]
        text = "".join(kept)
        if not text:
            continue
        asked = topical_overlap(query, text, common)
        on_topic = topical_overlap(topic, text, common) if topic else 0
        titled = len(q & bigrams(src.hit.title)) >= 2 and len(q & bigrams(text)) >= 2
        if asked < MIN_RELEVANCE and on_topic < 1 and not titled:
            continue
        score = asked + 0.5 * on_topic + 0.5 * len(q & bigrams(f"{src.hit.title}{src.hit.heading}"))
        if src.hit.product_code and src.hit.product_code.upper() in {p.code for p in task.products}:
            score += 2  # the sheet of the product asked about answers before a general note
        if best is None or score > best[0]:
            best = (score, text, src.n)
    return (best[1], best[2]) if best else ("", 0)


def _novel(sentence: str, seen: set[str]) -> bool:
    """Less than half of the sentence is already said."""
    b = bigrams(sentence)
    return bool(b) and len(b & seen) < len(b) / 2


def _education(task: WritingTask) -> int:
    """The investor-education passage on 业绩比较基准, if retrieved (cited by the generic answer)."""
    src = next((s for s in task.sources if s.hit.doc_type == "education" and "业绩比较基准" in s.hit.text), None)
    return src.n if src else 0


def _without(text: str, avoid: list[str]) -> str:
    """``text`` without the sentences holding any of ``avoid`` (what the rule pack blocked)."""
    if not avoid or not text:
        return text
    lines = []
    for line in text.split("\n"):
        kept = [s for s in split_sentences(line) if not any(a in s for a in avoid)]
        if "".join(kept).strip() or not line.strip():
            lines.append("".join(kept))
    return "\n".join(lines)


def _finish(text: str, task: WritingTask) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if text.count(DISCLOSURE) > 1:  # a quoted passage already said it: drop the added line
        text = re.sub(rf"\n{DISCLOSURE}。?(?=\n|$)", "", text, count=text.count(DISCLOSURE) - 1)
    if _INVESTING.search(text.replace(DISCLOSURE, "")) and DISCLOSURE not in text:
        text = f"{text}\n{DISCLOSURE}。"  # a draft about investing always carries the disclosure
    return strip_emoji(text) if task.persona.emoji == "none" else text


def _measure(task: WritingTask):  # type: ignore[no-untyped-def]
    sign_off = task.persona.sign_off
    return lambda text: visible_length(text, [sign_off])


def _mark_required(pieces: list[Piece], task: WritingTask, trusted_code: str) -> None:
    """In an approved script's (or a model's) wording, what must stay when it is fitted:

    - what states the exact facts of the products in scope (their 业绩比较基准 and risk level,
      when the main topic calls for them; "this is not for you" for an unsuitable one), and the
      suitable products it steers to: ``fact_context`` counted them as said, so they are not
      added again;
    - the "not a promise" sentence that goes with a stated benchmark, and in a 保本/收益 answer
      at least the most relevant one;
    - the risk disclosure, when the draft needs one;
    - what the reply is for: sentences holding the main scenario's ``keep`` words.
    """
    state = _states_facts(task)
    disclose = _needs_disclosure(task)
    main = main_scenario(task)
    keep = next((s.keep for s in task.scenarios if s.id == main), [])
    steer = bool(task.alternatives) and (
        "suitability" in task.scenario_ids or bool(task.unsuitable) or any(p.expired for p in task.products)
    )
    for piece in pieces:
        t = piece.text
        for p in task.products:
            if p.expired:
                continue
            if not p.suits(task.ceiling):
                if p.risk_level in t and re.search(r"不能.{0,6}推荐|不推荐|不适合", t):
                    piece.required = True
            elif p.is_investment and state:
                figure = p.benchmark.replace("年化", "")
                if (figure and figure in t) or (p.code == trusted_code and "业绩比较基准" in t):
                    piece.required = True
                if p.risk_level and p.risk_level in t and "风险" in t:
                    piece.required = True
        if steer and any(a.short_name in t for a in task.alternatives):
            piece.required = True
        if DISCLOSURE in t and disclose:
            piece.required = True
        if any(w in t for w in keep):
            piece.required = True  # what this reply is for (prompts/scenarios.yaml: keep)
    for i, piece in enumerate(pieces):
        if "业绩比较基准" not in piece.text or _NO_PROMISE.search(piece.text):
            continue
        # a figure stated without its "not a promise" sentence would be worse than neither
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is not None and nxt.section == piece.section and _NO_PROMISE.search(nxt.text):
            piece.needs.add(nxt.index)
            nxt.required = nxt.required or piece.required
    if "guarantee" in task.scenario_ids:
        denials = [p for p in pieces if _NO_PROMISE.search(p.text)]
        if denials and not any(p.required for p in denials):
            max(denials, key=lambda p: p.score).required = True


# The main topics whose reply quotes the passage that answers the question (investor education,
# a product sheet); the others have their own fixed answer in compose_reply.md.j2.
_QUOTING = {"general", "fraud", "volatility"}


def _education_words(task: WritingTask) -> str:
    """The main scenario's investor-education topic (净值 为什么会跌), which a quote may answer."""
    main = main_scenario(task)
    return next((s.education for s in task.scenarios if s.id == main), "")


def _aim(task: WritingTask) -> str:
    """What the reply should do (the main scenario's guidance): pieces that do it rank higher."""
    main = main_scenario(task)
    return next((s.guidance for s in task.scenarios if s.id == main), "")


def compose_reply(task: WritingTask, settings: Settings) -> str:
    """The template writer's reply, fitted to the persona's length limit."""
    customer = task.customer
    greeting = task.persona.greeting(customer.age_band if customer else None)
    query = " ".join([*(t.text for t in task.history[-2:] if t.role == "customer"), task.message])
    main = main_scenario(task)
    script_text, script_n = ("", 0) if task.plain else _script_text(task, settings)
    trusted = _script_product(task)
    layout = Layout()
    layout.add(f"{greeting}，", glue=True, required=True)
    if script_text:
        script_text = _without(_VOCATIVE.sub("", script_text, count=1), task.avoid)
        script_text, missing = fact_context(task, script_text, trusted)
        pieces = layout.add(script_text, cite=script_n, query=query, aim=_aim(task))
        _mark_required(pieces, task, trusted)
    else:
        _, missing = fact_context(task, "")
        facts_said = bool(missing["investments"] or missing["unsuitable"] or missing["expired"])
        quote, quote_n = ("", 0)
        if main in _QUOTING and not task.plain:
            quote, quote_n = _general(task, settings, query, topic=_education_words(task))
            quote = _without(quote, task.avoid)
        opening = render(
            "compose_reply.md.j2",
            settings,
            rm=task.rm,
            main=main,
            scenario_ids=task.scenario_ids,
            products=task.products,
            has_answer=bool(quote) or facts_said,
            education_n=_education(task),
        )
        layout.add(opening, required=True)
        # the passage that answers a general question is the answer, unless product facts are
        layout.add(quote, cite=quote_n, query=query, weight=2.0, required=main == "general" and not facts_said)
    footer = render(
        "facts_footer.md.j2",
        settings,
        customer_risk=customer.risk_level if customer else None,
        ceiling=task.ceiling,
        **missing,
    )
    layout.add(footer, required=True)
    if not script_text and task.persona.sign_off:
        layout.add(task.persona.sign_off, required=True)
    return _finish(layout.fit(task.persona.max_chars, _measure(task)), task)


def compose_post(task: WritingTask, settings: Settings) -> str:
    """The template writer's post copy: the calendar's theme and brief as written (operations
    wrote them for customers), else the approved group script for the theme; a relevant passage
    of investor education or a product sheet where it adds something; the exact facts."""
    query = f"{task.theme} {task.brief}".strip()
    script_text, script_n = ("", 0) if task.brief or task.plain else _script_text(task, settings)
    trusted = _script_product(task)
    layout = Layout()
    if script_text:
        script_text, missing = fact_context(task, _without(script_text, task.avoid), trusted)
        pieces = layout.add(script_text, cite=script_n, query=query)
        _mark_required(pieces, task, trusted)
    else:
        _, missing = fact_context(task, task.brief)
        layout.add(render("compose_post.md.j2", settings, theme=task.theme, brief=task.brief), required=True)
        if not task.plain:
            support, support_n = _general(task, settings, query, known=f"{task.theme}{task.brief}")
            layout.add(_without(support, task.avoid), cite=support_n, query=query, weight=2.0)
    footer = render(
        "facts_footer.md.j2",
        settings,
        customer_risk=None,
        ceiling=task.ceiling,
        investments=missing["investments"],
        disclose=missing["disclose"],
        unsuitable=[],
        expired=missing["expired"],
        alternatives=[],
    )
    layout.add(footer, required=True)
    if not script_text and task.persona.sign_off:
        layout.add(task.persona.sign_off, required=True)
    return _finish(layout.fit(task.persona.max_chars, _measure(task)), task)


def complete_model_text(text: str, task: WritingTask, settings: Settings) -> str:
    """A cleaned model draft plus the exact facts and disclosure it left out, fitted to the
    persona's limit: the model's own sentences give way (last first) to the facts."""
    text, missing = fact_context(task, text)
    footer = render(
        "facts_footer.md.j2",
        settings,
        customer_risk=task.customer.risk_level if task.customer else None,
        ceiling=task.ceiling,
        **missing,
    )
    layout = Layout()
    pieces = layout.add(text, query=task.message or task.theme, aim=_aim(task))
    for piece in pieces[:1]:
        piece.required = True  # the model's opening answers the question
    _mark_required(pieces, task, "")
    layout.add(footer, required=True)
    return _finish(layout.fit(task.persona.max_chars, _measure(task)), task)
