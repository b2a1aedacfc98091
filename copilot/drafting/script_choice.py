"""Which approved script a draft builds on: fit to channel, purpose, scenario and product, then scored.

The score's weights and thresholds are named in ``ScriptFit`` (frozen); ``pick_script`` takes
one ``ScriptQuery`` (what is asked, where, about which products) instead of a dozen arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot.config import Settings
from copilot.domain import Channel, Hit
from copilot.drafting.bigram_stats import script_common_bigrams, situation_similarity
from copilot.drafting.facts import product_facts
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
from copilot.knowledge import product_catalog, source_file
from copilot.text import bigrams


@dataclass(frozen=True)
class ScriptFit:
    """How a script is scored once it fits. Measured on eval/drafting and the calendars' themes."""

    # A script is "for this situation" when the message shares this many bigrams with its title
    # and 适用场景 (which quote what customers say), common ones left out: the right script shares
    # 4–13, unrelated ones 0–3.
    similar_min: int = 4
    per_scenario_tag: float = 2.0  # each of the scenario's script tags the script carries
    per_named_subject: float = 2.0  # each subject tag (乒乓球, 代领) the message names
    per_similar_bigram: float = 0.5  # each bigram shared with the script's situation
    product_script: float = 3.0  # written for the product asked about
    own_channel: float = 1.0  # has a reply written for this channel
    rank_penalty: float = 0.1  # per place below the top keyword hit


FIT = ScriptFit()


@dataclass(frozen=True)
class ScriptQuery:
    """What a script is chosen for."""

    message: str
    scenarios: tuple[Scenario, ...]
    in_scope: frozenset[str]  # product codes the draft is about
    kind: str = "reply"  # "reply" | "post"
    channel: Channel = "one_to_one"
    for_needs: tuple[str, ...] = ()  # scripts (doc ids) prompts/needs.yaml names, once per need asked
    # the question names a product or a need; if not, a word it shares with a script's tags (房贷) is
    # not its subject ("公积金能取出来还房贷吗" is not the education-fund script's situation)
    topical: bool = True


@dataclass(frozen=True)
class ScriptChoice:
    script: ApprovedScript
    hit: Hit
    block: ScriptBlock


@dataclass(frozen=True)
class _Context:
    """What is the same for every candidate script of one query."""

    vocab: ChannelVocabulary
    purposes: frozenset[str]
    allowed: frozenset[str]
    specific: frozenset[str]
    common: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)  # bigrams of the in-scope products' names


def pick_script(hits: list[Hit], q: ScriptQuery, settings: Settings, fit: ScriptFit = FIT) -> ScriptChoice | None:
    """The approved script to build on: it must fit the scenario and the channel, and the products
    in scope.

    - Channel: post copy is built only on group or moments replies; a reply prefers replies
      written for its own channel and takes a group post only when the customer names its
      subject ("乒乓球活动在哪里").
    - Purpose: replies reserved for one purpose (a welcome) only when a scenario asks for it.
    - Scenario: the scenario's script tags, or the same situation (``situation_similarity``);
      a scenario fitted by subject (``script_fit: subject``, the general question) must name the
      script's subject or match its situation.
    - Product: a script written for one product (its front matter names a product code) is
      never used for a question about another product; scripts without a product code are generic.
    """
    scripts: list[tuple[ApprovedScript, Hit]] = []
    for hit in hits:
        script = load_script(source_file(hit.source_path, settings))
        if script is not None and all(script.doc_id != sc.doc_id for sc, _ in scripts):
            scripts.append((script, hit))
    if not scripts:
        return None
    vocab = channel_vocabulary(settings.prompts_dir)
    catalog = [f for f in (product_facts(c, settings) for c in product_catalog(settings.knowledge_dir)) if f]
    # the situation, not the product's name: "睿享平衡怎么跌了" is not "睿享平衡怎么样"
    names = "".join(f.short_name for f in (product_facts(c, settings) for c in q.in_scope) if f)
    ctx = _Context(
        vocab=vocab,
        purposes=frozenset({t for s in q.scenarios for t in s.script_tags} & set(vocab.reserved)),
        allowed=frozenset({"group", "moments"} if q.kind == "post" else {"one_to_one", "group", "moments"}),
        specific=specific_tags(settings.knowledge_dir, generic={t for f in catalog for t in f.tags}),
        common=frozenset(script_common_bigrams(all_scripts(settings.knowledge_dir))),
        names=frozenset(bigrams(names)),
    )
    for scenario in [s for s in q.scenarios if s.topic]:
        picked = _best_script(scripts, scenario, q, ctx, settings, fit)
        if picked is not None:
            return picked
    return None


def _best_script(
    scripts: list[tuple[ApprovedScript, Hit]],
    scenario: Scenario,
    q: ScriptQuery,
    ctx: _Context,
    settings: Settings,
    fit: ScriptFit,
) -> ScriptChoice | None:
    wanted = set(scenario.script_tags)
    preferred = {q.channel}
    best: tuple[float, ScriptChoice] | None = None
    for rank, (script, hit) in enumerate(scripts):
        if script.product_code and script.product_code not in q.in_scope:
            # Written for one product. An investment script states that product's facts, so it
            # is used only when the customer asks about that product; a card or service script
            # (券抢完, 工资转出) fits any message in its scenario unless another product is meant.
            facts = product_facts(script.product_code, settings)
            if q.in_scope or facts is None or facts.is_investment:
                continue
        blocks = script.usable_blocks(ctx.vocab, ctx.allowed, ctx.purposes)
        if not blocks:
            continue
        own = [b for b in blocks if script.block_channels(b, ctx.vocab) & preferred]
        product = product_facts(script.product_code, settings) if script.product_code else None
        # Naming the script's product (薪享卡) is not naming its subject (keeping a salary).
        named = [
            t for t in script.tags if t in ctx.specific and t in q.message and not (product and t in product.tags)
        ]
        # a need the customer expressed names this script as its own (拍花 → 赏花外拍邀约)
        needed = q.for_needs.count(script.doc_id)
        if q.kind == "reply" and not own and not named and not needed:
            continue  # a group post is not an answer to a customer, unless asked about its subject
        tag_overlap = len(wanted & set(script.tags))
        similar = situation_similarity(q.message, script, set(ctx.common | ctx.names))
        in_scope_script = bool(script.product_code) and script.product_code in q.in_scope
        # A script for the product asked about fits a general question when it is the approved way
        # to present that product: an investment's own script, or one whose title names it.
        presents = in_scope_script and product is not None and (
            product.is_investment or product.short_name[:4] in script.title
        )
        if scenario.script_fit == "subject":
            fits = (bool(named) and q.topical) or bool(needed) or presents or similar >= fit.similar_min
        else:
            fits = tag_overlap > 0 or bool(needed) or similar >= fit.similar_min
        if not fits:
            continue
        score = (
            fit.per_scenario_tag * tag_overlap
            + fit.per_named_subject * (len(named) + needed)
            + fit.per_similar_bigram * similar
            + (fit.product_script if in_scope_script else 0)
            + (fit.own_channel if own else 0)
            - fit.rank_penalty * rank
        )
        if best is None or score > best[0]:
            # Within a script, the reply whose label the message echoes, else its first (main)
            # reply; in a group or a post, one written for that channel. A one-to-one answer may
            # use a group reply's wording ("券抢完" is answered the same way), not the other way.
            choose = own if own and preferred != {"one_to_one"} else blocks
            best = (score, ScriptChoice(script, hit, script.block_for(q.message, choose)))
    return best[1] if best else None
