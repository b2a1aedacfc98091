"""Retrieval for drafting: which passages a draft rests on, and the short snippets a model sees.

One hybrid search (dense + BM25) brings the passages most like the message, within the segment.
Product sheets and approved scripts are then fetched by keyword (BM25 only, no embedding), which
is exact for "the 业绩比较基准 section of QH-WM-R2-002" and keeps the copilot's own overhead low.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.config import Settings
from copilot.domain import DocType, Hit
from copilot.drafting.facts import ProductFacts, product_facts
from copilot.drafting.scenarios import Scenario
from copilot.drafting.scripts import (
    ApprovedScript,
    ChannelVocabulary,
    ScriptBlock,
    all_scripts,
    channel_vocabulary,
    load_script,
    specific_tags,
)
from copilot.knowledge import KnowledgeError, iter_knowledge_files, product_catalog, read_document
from copilot.text import bigrams, split_sentences

if TYPE_CHECKING:
    from copilot.retrieval import Retriever

_retrievers: dict[tuple[str, ...], Retriever] = {}
_retrievers_lock = threading.Lock()


def retriever(settings: Settings, mode: str = "hybrid") -> Retriever:
    """One Retriever per index and mode, reused across drafts (it is cheap after the first call).

    An empty index is an error, not an empty result: a draft must rest on approved material.
    """
    from copilot.drafting.request import DraftingUnavailable
    from copilot.retrieval import Retriever

    key = (
        str(settings.data_dir),
        settings.chroma_url,
        settings.collection,
        settings.embedding_backend,
        settings.embedding_model,
        mode,
    )
    with _retrievers_lock:
        r = _retrievers.get(key)
        if r is None:
            r = _retrievers[key] = Retriever(settings, mode=mode)  # type: ignore[arg-type]
    if len(r) == 0:
        raise DraftingUnavailable(
            f"知识库索引为空（{settings.index_dir}）：请先运行 copilot ingest",
            public="知识库索引为空：请先运行 copilot ingest，或由管理员在“知识库”中重建索引。",
        )
    return r


def ensure_ready(settings: Settings) -> None:
    """Raise DraftingUnavailable if drafts cannot rest on approved material (an empty index).

    The service calls this before a stream starts, so an empty index is a real 503, not an
    error event inside a 200 response."""
    retriever(settings, "bm25")


# --- snippets ------------------------------------------------------------------------------------
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s*|>\s*|[-*+]\s+|[·•]\s*|\d+[.)、]\s*|[0-9]\ufe0f?\u20e3\s*)|\*\*|`")
# FAQ sections ("问：……？ 答：……"): the question is the sheet's, not something to tell a customer.
_QUESTION = re.compile(r"^问[:：]")
_ANSWER = re.compile(r"^答[:：]\s*")


@lru_cache(maxsize=4)
def _common_in(files: tuple[tuple[str, int], ...]) -> frozenset[str]:
    counts: dict[str, int] = {}
    for path, _ in files:
        try:
            body = read_document(Path(path)).body
        except (KnowledgeError, OSError):
            continue
        for b in bigrams(body):
            counts[b] = counts.get(b, 0) + 1
    return frozenset(b for b, n in counts.items() if n > len(files) // 4)


def common_bigrams(settings: Settings) -> frozenset[str]:
    """Bigrams found in more than a quarter of the knowledge documents (银行, 手机, 为准, 客户 …):
    sharing them says nothing about sharing a topic."""
    folder = settings.knowledge_dir
    if not folder.is_dir():
        return frozenset()
    files = tuple((str(f), f.stat().st_mtime_ns) for f in iter_knowledge_files([folder]) if f.suffix.lower() == ".md")
    return _common_in(files)


def topical_overlap(a: str, b: str, common: frozenset[str]) -> int:
    """Bigrams two texts share, the knowledge base's common ones left out."""
    return len((bigrams(a) & bigrams(b)) - common)


SUPPORT_MIN_OVERLAP = 6  # distinctive bigrams a draft must share with a passage to rest on it


def cite_supporting(text: str, sources: list, common: frozenset[str]) -> str:
    """A model draft that cites nothing still rests on what it was shown: mark the sources it
    demonstrably uses (enough distinctive shared bigrams), so every draft shows where it came from."""
    used = [s.n for s in sources if topical_overlap(text, f"{s.snippet}{s.hit.text}", common) >= SUPPORT_MIN_OVERLAP]
    return text.rstrip() + "".join(f"[{n}]" for n in used) if used else text


def snippet(text: str, query: str, max_chars: int = 90, min_overlap: int = 0, whole: bool = False) -> str:
    """The sentences of a passage that share most with the query, in their original order.

    Small models read prompts slowly (~80 tokens/s here), so each source is cut to a few
    sentences rather than sent whole. With ``min_overlap`` only sentences sharing that many
    bigrams with the query are taken (a draft quoting a passage must not drift to another topic).
    """
    lines = text.splitlines()
    if whole:  # quoted to a customer: table rows read as "周四 ， 全天 ， …", and a document's
        # "> 示例材料…" note is about the document, not for the customer
        lines = [ln for ln in lines if not ln.lstrip().startswith(("|", ">"))]
    plain = "\n".join(_MARKUP.sub("", line).replace("|", "，").strip(" ，") for line in lines)
    sentences: list[str] = []
    context: list[str] = []  # an FAQ answer is about its question ("离职后卡还能用吗？")
    question = ""
    for line in plain.splitlines():
        for raw in split_sentences(line, clauses=True):
            s = raw.strip()
            if _QUESTION.match(s):
                question = s
                continue
            if len(s) <= 3 or "示例材料" in s:
                continue
            # a sample-data caveat ("利率为示例数据…") says nothing on its own to a customer, and an
            # introduction ("这三句话一听就要当心：") nothing without what it introduces
            if whole and ("示例" in s or re.search(r"[：:]\s*$", s)):
                continue
            sentences.append(_ANSWER.sub("", s))
            context.append(question)
        question = ""  # a question covers the answer on its own line only
    if not sentences:
        return ""  # a title chunk or a sample notice: nothing a customer should read
    q = bigrams(query)

    def shared(i: int) -> int:
        return len(q & bigrams(sentences[i] + context[i]))

    ranked = sorted(range(len(sentences)), key=lambda i: (-shared(i), i))
    ranked = [i for i in ranked if shared(i) >= min_overlap]
    if whole:  # an FAQ answer is quoted only for a question like its own
        ranked = [i for i in ranked if not context[i] or len(q & bigrams(context[i])) >= max(min_overlap, 2)]
    if not ranked:
        return ""
    if whole:  # only whole sentences: a quote cut with "…" reads as a mistake
        ranked = [i for i in ranked if len(sentences[i]) <= max_chars]
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used and used + len(sentences[i]) > max_chars:
            continue
        chosen.append(i)
        used += len(sentences[i])
        if used >= max_chars:
            break
    out = "".join(sentences[i] if sentences[i][-1] in "。！？；～~" else sentences[i] + "。" for i in sorted(chosen))
    if whole:
        out = re.sub(r"；$", "。", out)
    return out if len(out) <= max_chars else out[: max_chars - 1] + "…"


# --- what a draft rests on -----------------------------------------------------------------------
_PRODUCT_QUERY = {
    "unsuitable": "风险等级 产品概述 适合人群 风险揭示",
    "investment": "业绩比较基准及测算依据 不构成收益承诺 风险揭示",
    "deposit": "存款保险 风险揭示 利率",
    "other": "产品要素 规则 风险揭示",
}


@dataclass
class Retrieved:
    general: list[Hit]
    product_hits: dict[str, list[Hit]]  # code -> passages of its sheet, best first
    script: ApprovedScript | None
    script_hit: Hit | None
    education: list[Hit] = field(default_factory=list)
    script_block: ScriptBlock | None = None  # the reply within the script the draft builds on


def _product_kind(p: ProductFacts, ceiling: str) -> str:
    if not p.suits(ceiling):
        return "unsuitable"
    if p.is_investment:
        return "investment"
    return "deposit" if p.product_type == "deposit" else "other"


# A script is "for this situation" when the message shares this many bigrams with the script's
# title and 适用场景 (which quote what customers typically say), once bigrams common to many
# scripts (客户, 网点, 养老 …) are left out. Measured on eval/drafting and the calendars' themes:
# the right script shares 4–13, unrelated ones 0–3.
SIMILAR_MIN = 4


def script_common_bigrams(scripts: list[ApprovedScript]) -> set[str]:
    counts: dict[str, int] = {}
    for sc in scripts:
        for b in bigrams(f"{sc.title}{sc.situation}"):
            counts[b] = counts.get(b, 0) + 1
    return {b for b, n in counts.items() if n >= max(3, len(scripts) // 4)}


def situation_similarity(text: str, script: ApprovedScript, common: set[str]) -> int:
    """Bigrams the text shares with the script's title and 适用场景, common ones left out."""
    return len((bigrams(text) - common) & bigrams(f"{script.title}{script.situation}"))


@dataclass(frozen=True)
class ScriptChoice:
    script: ApprovedScript
    hit: Hit
    block: ScriptBlock


def _pick_script(
    hits: list[Hit],
    scenarios: list[Scenario],
    message: str,
    in_scope: set[str],
    settings: Settings,
    kind: str = "reply",
    channel: str = "one_to_one",
) -> ScriptChoice | None:
    """The approved script to build on: it must fit the scenario and the channel, and the products
    in scope.

    - Channel: post copy is built only on group or moments replies; a reply prefers replies
      written for its own channel and takes a group post only when the customer names its
      subject ("乒乓球活动在哪里").
    - Purpose: replies reserved for one purpose (a welcome) only when a scenario asks for it.
    - Scenario: the scenario's script tags, or the same situation (``situation_similarity``);
      a general question must name the script's subject or match its situation.
    - Product: a script written for one product (its front matter names a product code) is
      never used for a question about another product; scripts without a product code are generic.
    """
    vocab = channel_vocabulary(settings.prompts_dir)
    scripts: list[tuple[ApprovedScript, Hit]] = []
    for hit in hits:
        script = load_script(Path(hit.source_path))
        if script is not None and all(script.doc_id != sc.doc_id for sc, _ in scripts):
            scripts.append((script, hit))
    if not scripts:
        return None
    wanted = {t for s in scenarios for t in s.script_tags}
    purposes = wanted & set(vocab.reserved)
    allowed = {"group", "moments"} if kind == "post" else {"one_to_one", "group", "moments"}
    catalog = [f for f in (product_facts(c, settings) for c in product_catalog(settings.knowledge_dir)) if f]
    specific = specific_tags(settings.knowledge_dir, generic={t for f in catalog for t in f.tags})
    common = script_common_bigrams(all_scripts(settings.knowledge_dir))
    for scenario in [s for s in scenarios if s.id != "injection"]:
        picked = _best_script(
            scripts, scenario, message, in_scope, settings,
            vocab=vocab, purposes=purposes, allowed=allowed, preferred={channel},
            specific=specific, common=common, strict_channel=kind == "reply",
        )  # fmt: skip
        if picked is not None:
            return picked
    return None


def _best_script(
    scripts: list[tuple[ApprovedScript, Hit]],
    scenario: Scenario,
    message: str,
    in_scope: set[str],
    settings: Settings,
    *,
    vocab: ChannelVocabulary,
    purposes: set[str],
    allowed: set[str],
    preferred: set[str],
    specific: frozenset[str],
    common: set[str],
    strict_channel: bool,
) -> ScriptChoice | None:
    wanted = set(scenario.script_tags)
    best: tuple[float, ScriptChoice] | None = None
    for rank, (script, hit) in enumerate(scripts):
        if script.product_code and script.product_code not in in_scope:
            # Written for one product. An investment script states that product's facts, so it
            # is used only when the customer asks about that product; a card or service script
            # (券抢完, 工资转出) fits any message in its scenario unless another product is meant.
            facts = product_facts(script.product_code, settings)
            if in_scope or facts is None or facts.is_investment:
                continue
        blocks = script.usable_blocks(vocab, allowed, purposes)
        if not blocks:
            continue
        own = [b for b in blocks if script.block_channels(b, vocab) & preferred]
        product = product_facts(script.product_code, settings) if script.product_code else None
        # Naming the script's product (薪享卡) is not naming its subject (keeping a salary).
        named = [t for t in script.tags if t in specific and t in message and not (product and t in product.tags)]
        if strict_channel and not own and not named:
            continue  # a group post is not an answer to a customer, unless asked about its subject
        tag_overlap = len(wanted & set(script.tags))
        # the situation, not the product's name: "睿享平衡怎么跌了" is not "睿享平衡怎么样"
        names = "".join(f.short_name for f in (product_facts(c, settings) for c in in_scope) if f)
        similar = situation_similarity(message, script, common | bigrams(names))
        in_scope_script = bool(script.product_code) and script.product_code in in_scope
        # A script for the product asked about fits a general question when it is the approved way
        # to present that product: an investment's own script, or one whose title names it.
        presents = (
            in_scope_script
            and product is not None
            and (product.is_investment or product.short_name[:4] in script.title)
        )
        if scenario.id == "general":
            fits = bool(named) or presents or similar >= SIMILAR_MIN
        else:
            fits = tag_overlap > 0 or similar >= SIMILAR_MIN
        if not fits:
            continue
        score = (
            2 * tag_overlap + 2 * len(named) + 0.5 * similar + (3 if in_scope_script else 0)
            + (1 if own else 0) - 0.1 * rank
        )  # fmt: skip
        if best is None or score > best[0]:
            # Within a script, the reply whose label the message echoes, else its first (main)
            # reply; in a group or a post, one written for that channel. A one-to-one answer may
            # use a group reply's wording ("券抢完" is answered the same way), not the other way.
            choose = own if own and preferred != {"one_to_one"} else blocks
            best = (score, ScriptChoice(script, hit, script.block_for(message, choose)))
    return best[1] if best else None


def retrieve(
    query: str,
    segment: str | None,
    products: list[ProductFacts],
    alternatives: list[ProductFacts],
    scenarios: list[Scenario],
    ceiling: str,
    settings: Settings,
    k: int = 4,
    general: list[Hit] | None = None,
    kind: str = "reply",
    channel: str = "one_to_one",
) -> Retrieved:
    """Passages for a draft. ``general`` may be passed in when the caller already searched."""
    keyword = retriever(settings, "bm25")
    if general is None:
        general = retriever(settings, "hybrid").search(query, k=k, segment=segment)
    product_hits: dict[str, list[Hit]] = {}
    for p in [*products, *alternatives]:
        q = f"{p.short_name} {_PRODUCT_QUERY[_product_kind(p, ceiling)]}"
        hits = keyword.search(q, k=2, product_code=p.code, include_expired=True)
        if p in products:  # and the passage of its sheet that answers the question (ATM 取现手续费)
            asked = keyword.search(query, k=2, product_code=p.code, include_expired=True)
            hits += [h for h in asked if h.chunk_id not in {x.chunk_id for x in hits}]
        product_hits[p.code] = hits
    scenario_words = " ".join(w for s in scenarios for w in s.script_tags)
    script_hits = keyword.search(f"{query} {scenario_words}", k=10, segment=segment, doc_type=DocType.script.value)
    choice = _pick_script(
        script_hits, scenarios, query, {p.code for p in products}, settings, kind=kind, channel=channel
    )
    script_hit = choice.hit if choice else None
    if choice is not None and not choice.hit.heading.startswith("话术"):
        # Cite the passage the wording comes from (the 话术 section), not the one that matched.
        probe = f"{choice.script.title} 话术 {choice.block.text[:40]}"
        for h in keyword.search(probe, k=5, segment=segment, doc_type=DocType.script.value):
            if h.doc_id == choice.script.doc_id and h.heading.startswith("话术"):
                script_hit = h
                break
    # Investor education that answers the question itself (存款保险, 分期手续费, 防骗): used by the
    # template writer only when it shares enough with the question (compose._general).
    education = keyword.search(query, k=2, segment=segment, doc_type=DocType.education.value)
    topical = [s for s in scenarios if s.education and s.id != "general"]
    if topical and not (products and topical[0].id == "guarantee"):
        # the topic's own note ("保本吗" about no product in particular: 业绩比较基准不是收益承诺;
        # a falling holding: 净值为什么会跌), found by the scenario's words
        found = keyword.search(topical[0].education, k=3, segment=segment, doc_type=DocType.education.value)
        education = [h for h in found if h.heading][:1] + education
    return Retrieved(
        general=general,
        product_hits=product_hits,
        script=choice.script if choice else None,
        script_hit=script_hit,
        education=education,
        script_block=choice.block if choice else None,
    )


def implied_products(general: list[Hit], top: int = 4) -> list[str]:
    """Product codes of the top hits (product sheets, and scripts written for one product).

    "这个养老理财" → the product its best passages belong to. Callers keep only the ones the
    message actually names (``facts.named_in``): a question about 定投 must not pull in whichever
    wealth product happened to rank third.
    """
    codes: list[str] = []
    for h in general[:top]:
        if h.product_code and h.product_code not in codes:
            codes.append(h.product_code.upper())
    return codes
