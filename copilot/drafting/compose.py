"""Deterministic text: the template writer's drafts, and the exact facts added to model drafts.

Facts that must be exact — a product's risk level, its 业绩比较基准 with the basis and the
no-promise sentence, the risk disclosure, "this product is not for you" — are rendered from the
product sheet through prompts/templates/facts.md.j2, never left to a model.
"""

from __future__ import annotations

import re
from pathlib import Path

from copilot.config import Settings
from copilot.drafting.cleanup import cited_numbers
from copilot.drafting.facts import ProductFacts, product_facts
from copilot.drafting.prompting import render
from copilot.drafting.scripts import fill_placeholders, load_script, placeholder_values
from copilot.drafting.sources import snippet
from copilot.drafting.task import WritingTask

DISCLOSURE = "理财非存款、产品有风险、投资须谨慎"
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3\u2190-\u21ff\u2300-\u23ff]"
)
_SENT_END = "。！？!?\n"


def strip_emoji(text: str) -> str:
    text = _EMOJI.sub("", text)
    return re.sub(r"[ \t]+\n", "\n", re.sub(r"^[ \t]+", "", text, flags=re.M))


def cite_in_place(text: str, phrase: str, n: int) -> tuple[str, bool]:
    """Put [n] at the end of the first sentence containing ``phrase`` (before its full stop)."""
    i = text.find(phrase)
    if i < 0:
        return text, False
    end = len(text)
    for j in range(i + len(phrase), len(text)):
        if text[j] in _SENT_END:
            end = j
            break
    if re.match(r"\[\d{1,2}\]", text[end:]) or re.search(r"\[\d{1,2}\]$", text[:end]):
        return text, True  # already cited there
    return f"{text[:end]}[{n}]{text[end:]}", True


def _n(task: WritingTask, p: ProductFacts) -> int:
    src = next((s for s in task.sources if s.hit.product_code.upper() == p.code), None)
    return src.n if src else 0


def _needs_disclosure(task: WritingTask) -> bool:
    ids = set(task.scenario_ids)
    return any(p.is_investment for p in [*task.products, *task.alternatives]) or bool(
        ids & {"guarantee", "suitability"}
    )


def fact_context(task: WritingTask, text: str) -> tuple[str, dict]:
    """Cite facts ``text`` already states; return what is still missing, for facts.md.j2.

    ``text`` is an approved script or a model draft. A fact counts as stated when its exact wording
    (benchmark figure, product name with "不能…推荐") is there; a model's paraphrase is not trusted.
    """
    investments: list[tuple[ProductFacts, int]] = []
    unsuitable: list[tuple[ProductFacts, int]] = []
    expired: list[tuple[ProductFacts, int]] = []
    for p in task.products:
        n = _n(task, p)
        if p.expired:
            expired.append((p, n))
        elif not p.suits(task.ceiling):
            if not (p.risk_level in text and re.search(r"不能.{0,6}推荐|不推荐|不适合", text)):
                unsuitable.append((p, n))
        elif p.is_investment:
            if p.benchmark and p.benchmark.replace("年化", "") in text:
                text, _ = cite_in_place(text, p.benchmark.replace("年化", ""), n) if n else (text, True)
            else:
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


def _script_text(task: WritingTask, settings: Settings) -> tuple[str, int]:
    if task.script is None:
        return "", 0
    script = load_script(Path(task.script.hit.source_path))
    if script is None:
        return "", 0
    block = script.block_for(task.message or task.theme)
    return fill_placeholders(block.text, placeholder_values(task.rm, settings.prompts_dir)), task.script.n


def _general(task: WritingTask, settings: Settings) -> tuple[str, int]:
    """A customer-facing passage for questions no script covers, cut to a few sentences.

    Only investor education and sheets of products this customer may be offered qualify:
    playbooks and scripts' notes are internal, and an expired or unsuitable product's figures
    must not reach the customer.
    """
    for src in task.sources:
        if src.hit.doc_type == "education":
            break
        if src.hit.doc_type == "product" and src.hit.product_code:
            facts = product_facts(src.hit.product_code, settings)
            if facts is not None and not facts.expired and facts.suits(task.ceiling):
                break
    else:
        return "", 0
    return snippet(src.hit.text, task.message or task.theme, max_chars=120), src.n


def _education(task: WritingTask) -> int:
    """The investor-education passage on 业绩比较基准, if retrieved (cited by the generic answer)."""
    src = next(
        (s for s in task.sources if s.hit.doc_type == "education" and "业绩比较基准" in s.hit.text), None
    )
    return src.n if src else 0


def _finish(text: str, task: WritingTask) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return strip_emoji(text) if task.persona.emoji == "none" else text


def compose_reply(task: WritingTask, settings: Settings) -> str:
    """The template writer's reply."""
    script_text, script_n = _script_text(task, settings)
    script_text, missing = fact_context(task, script_text)
    general_snippet, general_n = _general(task, settings)
    text = render(
        "compose_reply.md.j2",
        settings,
        rm=task.rm,
        persona=task.persona,
        greeting=task.persona.greeting(task.customer.age_band if task.customer else None),
        scenario_ids=task.scenario_ids,
        script_text=script_text,
        script_n=script_n,
        products=task.products,
        customer_risk=task.customer.risk_level if task.customer else None,
        ceiling=task.ceiling,
        general_snippet=general_snippet,
        general_n=general_n,
        education_n=_education(task),
        **missing,
    )
    return _finish(text, task)


def compose_post(task: WritingTask, settings: Settings) -> str:
    """The template writer's post copy for a theme."""
    script_text, script_n = _script_text(task, settings)
    script_text, missing = fact_context(task, script_text)
    general_snippet, general_n = _general(task, settings)
    text = render(
        "compose_post.md.j2",
        settings,
        persona=task.persona,
        theme=task.theme,
        brief=task.brief,
        script_text=script_text,
        script_n=script_n,
        general_snippet=general_snippet,
        general_n=general_n,
        investments=missing["investments"],
        disclose=missing["disclose"],
    )
    return _finish(text, task)


def complete_model_text(text: str, task: WritingTask, settings: Settings) -> str:
    """A cleaned model draft plus the exact facts and disclosure it left out."""
    text, missing = fact_context(task, text)
    footer = render(
        "facts_footer.md.j2",
        settings,
        customer_risk=task.customer.risk_level if task.customer else None,
        ceiling=task.ceiling,
        **missing,
    )
    return _finish(f"{text}\n{footer}" if footer else text, task)


def renumber_citations(text: str) -> tuple[str, dict[int, int]]:
    """Renumber [n] markers 1..k in order of first use; returns the text and old->new map."""
    order = cited_numbers(text)
    mapping = {old: new for new, old in enumerate(order, start=1)}
    return re.sub(r"\[(\d{1,2})\]", lambda m: f"[{mapping.get(int(m.group(1)), 0)}]", text), mapping
