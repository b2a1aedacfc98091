"""Drafting suite: scenarios (segment, profile, message, expectations) through ``draft_reply``.

Deterministic checks on every draft (each a share over the scenarios):

- ``grounded_rate``: every figure, rate, date, time, risk level and product name in the draft
  appears in a passage it cites (see ``grounding.py``);
- ``citations_resolve_rate``: every [n] marker has a citation, and every citation is a real
  indexed passage of an existing knowledge file with that document id;
- ``disclosure_rate``: the risk disclosure is present whenever an investment product is mentioned;
- ``no_guarantee_rate``: an independent ``check()`` of the draft finds no guarantee or prediction;
- ``persona_rate`` (and ``persona.length|salutation|emoji|ceiling_rate``): the segment persona's
  length limit, salutation, emoji policy, and no product above the segment's risk ceiling named
  unless the customer asked about it;
- ``expectations_rate``: the scenario's own expectations (cited documents, phrases, sendable);
- ``unsafe_sendable``: drafts marked sendable that the independent check blocks (must be 0).

With ``--judge`` a model behind the configured OpenAI-compatible endpoint also scores each draft
for faithfulness and helpfulness (``judge.score``, 0–1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.config import Settings
from copilot.domain import CheckContext, CustomerProfile, Draft, Segment, Turn, risk_rank
from copilot.evaluation import grounding
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.golden import read_yaml, validate_list
from copilot.evaluation.metrics import share
from copilot.evaluation.report import CaseFailure, Chart, SuiteResult
from copilot.evaluation.runner import EvalContext

_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\ufe0f\u20e3]")


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sendable: bool | None = None
    cite_any: list[str] = Field(default_factory=list)  # at least one of these doc ids is cited
    include: list[str] = Field(default_factory=list)  # every phrase appears
    include_any: list[str] = Field(default_factory=list)  # at least one phrase appears
    exclude: list[str] = Field(default_factory=list)  # regexes that must not match
    disclosure: bool | None = None  # force (True) or waive (False) the disclosure requirement


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    segment: Segment
    profile: dict[str, Any] = Field(default_factory=dict)  # CustomerProfile fields besides segment
    message: str = Field(min_length=1)
    product_codes: list[str] = Field(default_factory=list)
    history: list[Turn] = Field(default_factory=list)
    channel: Literal["one_to_one", "group", "moments"] = "one_to_one"
    expect: Expectations = Field(default_factory=Expectations)

    def customer(self) -> CustomerProfile:
        return CustomerProfile(segment=self.segment, **self.profile)


class DraftingGolden(BaseModel):
    model_config = ConfigDict(extra="forbid")

    forbidden_categories: list[str] = Field(default_factory=lambda: ["guarantee", "expected_return"])
    investment_words: list[str] = Field(default_factory=list)
    salutation_window: int = Field(24, ge=1)
    # Forms of address a segment accepts besides its persona's salutation (e.g. 阿姨 for pension).
    salutations: dict[Segment, list[str]] = Field(default_factory=dict)
    products: dict[str, list[str]] = Field(default_factory=dict)  # code -> names a draft may use
    scenarios: list[dict[str, Any]]


def load_golden(ctx: EvalContext) -> tuple[DraftingGolden, list[Scenario]]:
    path = ctx.settings.eval_dir / "drafting" / "scenarios.yaml"
    raw = read_yaml(path)
    try:
        golden = DraftingGolden.model_validate(raw)
    except ValueError as exc:
        raise EvalInputError(f"{path}: {exc}") from exc
    scenarios = validate_list(path, golden.scenarios, Scenario)
    for s in scenarios:
        try:
            s.customer()
        except ValueError as exc:
            raise EvalInputError(f"{path} [{s.id}] profile 无效: {exc}") from exc
    return golden, ctx.limited(scenarios)


# --- checks on one draft ------------------------------------------------------------------------
class DraftChecks(BaseModel):
    """The outcome of every check on one draft; ``problems`` says what failed, in Chinese."""

    grounded: bool
    citations_resolve: bool
    disclosure: bool
    disclosure_required: bool
    no_guarantee: bool
    length: bool
    salutation: bool
    emoji: bool
    ceiling: bool
    expectations: bool
    unsafe_sendable: bool
    problems: list[str] = Field(default_factory=list)

    @property
    def persona(self) -> bool:
        return self.length and self.salutation and self.emoji and self.ceiling

    @property
    def passed(self) -> bool:
        return (
            self.grounded
            and self.citations_resolve
            and self.disclosure
            and self.no_guarantee
            and self.persona
            and self.expectations
            and not self.unsafe_sendable
        )


class Inspector:
    """Checks drafts against the knowledge base the drafts were written from."""

    def __init__(self, settings: Settings, golden: DraftingGolden):
        from copilot.knowledge import load_products
        from copilot.retrieval import Retriever

        self.settings = settings
        self.golden = golden
        self.catalog = load_products(settings.knowledge_dir)
        self.retriever = Retriever(settings)
        self._declared: dict[str, str] = {}
        unknown = sorted(set(golden.products) - set(self.catalog))
        if unknown:
            raise EvalInputError(f"scenarios.yaml products: 知识库中没有这些产品代码 {unknown}")

    def declared(self, source_path: str) -> str:
        """The facts a cited document declares in its front matter (product sheets state their risk
        level, benchmark, term there): a draft quoting them is grounded in that document."""
        if source_path not in self._declared:
            from copilot.knowledge import KnowledgeError, read_document

            path = Path(source_path)
            path = path if path.is_absolute() else self.settings.content_root / path
            try:
                meta = read_document(path).meta
            except (KnowledgeError, OSError):
                self._declared[source_path] = ""
            else:
                fields = ("title", "product_code", "risk_level", "benchmark", "benchmark_basis", "term",
                          "min_amount", "effective_date", "expiry_date")  # fmt: skip
                self._declared[source_path] = "\n".join(str(getattr(meta, f) or "") for f in fields)
        return self._declared[source_path]

    def persona(self, segment: str) -> Any:
        from copilot.drafting.personas import load_persona

        return load_persona(segment, self.settings)

    def inspect(self, s: Scenario, d: Draft) -> DraftChecks:
        from copilot.compliance import check

        problems: list[str] = []
        text = d.draft
        aliases = self.golden.products
        customer_text = " ".join([s.message, *(t.text for t in s.history if t.role == "customer")])

        # citations resolve to real passages, and every [n] has its citation
        cited = {c.n: c for c in d.citations}
        missing = sorted(grounding.markers(text) - set(cited))
        if missing:
            problems.append(f"正文引用了不存在的来源 {missing}")
        for c in d.citations:
            hit = self.retriever.passage(c.chunk_id)
            why = grounding.resolve_citation(c, hit.text if hit else None, self.settings.content_root)
            if not why and hit is not None and hit.doc_id != c.doc_id:
                why = f"[{c.n}] 片段属于 {hit.doc_id}，引用写的是 {c.doc_id}"
            if why:
                problems.append(why)
        citations_ok = not problems

        # groundedness against the cited passages, with the facts their documents declare
        sources = [f"{c.title}\n{c.heading}\n{c.text}\n{self.declared(c.source_path)}" for c in d.citations]
        g = grounding.check_grounding(text, sources, aliases, customer_text)
        if not g.ok:
            problems.append("无出处的事实: " + "、".join(f.text for f in g.ungrounded))

        # disclosure whenever an investment product is mentioned
        mentioned = grounding.product_mentions(text, aliases)
        investing = any(self.catalog[c].risk_level for c in mentioned if c in self.catalog) or any(
            w in text for w in self.golden.investment_words
        )
        required = investing if s.expect.disclosure is None else s.expect.disclosure
        disclosure_ok = grounding.has_disclosure(text) or not required
        if not disclosure_ok:
            problems.append("提到投资产品却缺少风险提示")

        # no guarantee or prediction, by an independent check with the customer's context
        ctx = CheckContext(
            segment=s.segment,
            customer_risk=s.customer().risk_level,
            product_codes=s.product_codes,
            channel=s.channel,
            direction="outbound",
        )
        verdict = check(text, ctx, rules_dir=self.settings.guardrails_dir)
        bad = [f for f in verdict.findings if f.category in self.golden.forbidden_categories]
        if bad:
            problems.append("含承诺或预测: " + "、".join(f"{f.rule}({f.text})" for f in bad))
        unsafe = d.sendable and verdict.verdict == "block"
        if unsafe:
            problems.append("标为可发送，独立复查却被拦截: " + "、".join(f.rule for f in verdict.findings))

        # persona constraints
        persona = self.persona(s.segment.value)
        # The disclosure and the persona's sign-off are required additions, not the reply itself.
        body = grounding.strip_markers(text)
        for fixed in (grounding.DISCLOSURE, persona.sign_off):
            body = body.replace(fixed, "") if fixed else body
        body = body.strip()
        length_ok = len(body) <= persona.max_chars
        if not length_ok:
            problems.append(f"长度 {len(body)} 超过人设上限 {persona.max_chars}")
        greetings = {
            persona.salutation,
            persona.greeting(s.customer().age_band),
            *persona.address_by_age.values(),
            *self.golden.salutations.get(s.segment, []),
        }
        head = body[: self.golden.salutation_window]
        salutation_ok = any(g_ and g_ in head for g_ in greetings)
        if not salutation_ok:
            problems.append(f"开头没有人设的称呼（{'/'.join(sorted(x for x in greetings if x))}）")
        emoji_ok = persona.emoji != "none" or not _EMOJI.search(text)
        if not emoji_ok:
            problems.append("人设不用表情，草稿里有表情")
        asked = grounding.product_mentions(customer_text, aliases) | set(s.product_codes)
        above = sorted(
            c
            for c in mentioned - asked
            if c in self.catalog
            and self.catalog[c].risk_level
            and risk_rank(self.catalog[c].risk_level) > risk_rank(persona.risk_ceiling)
        )
        if above:
            problems.append(f"主动提到高于客群风险上限 {persona.risk_ceiling} 的产品 {above}")

        # the scenario's own expectations
        e = s.expect
        exp_problems: list[str] = []
        if e.sendable is not None and d.sendable != e.sendable:
            exp_problems.append(
                f"期望{'可' if e.sendable else '不可'}发送，实际{'可' if d.sendable else '不可'}发送"
            )
        if e.cite_any and not {c.doc_id for c in d.citations} & set(e.cite_any):
            exp_problems.append(f"没有引用 {e.cite_any} 中任何一篇")
        exp_problems += [f"缺少“{p}”" for p in e.include if p not in text]
        if e.include_any and not any(p in text for p in e.include_any):
            exp_problems.append(f"没有出现 {e.include_any} 中任何一个")
        exp_problems += [f"出现了不应有的“{m.group(0)}”" for p in e.exclude if (m := re.search(p, text))]
        problems += exp_problems

        return DraftChecks(
            grounded=g.ok,
            citations_resolve=citations_ok,
            disclosure=disclosure_ok,
            disclosure_required=required,
            no_guarantee=not bad,
            length=length_ok,
            salutation=salutation_ok,
            emoji=emoji_ok,
            ceiling=not above,
            expectations=not exp_problems,
            unsafe_sendable=unsafe,
            problems=problems,
        )


def request_for(s: Scenario) -> Any:
    from copilot.drafting import DraftRequest

    return DraftRequest(
        message=s.message,
        customer=s.customer(),
        history=s.history,
        product_codes=s.product_codes,
        channel=s.channel,
    )


def run(ctx: EvalContext) -> SuiteResult:
    from copilot.drafting import draft_reply

    golden, scenarios = load_golden(ctx)
    judge = None
    if ctx.judge:  # before any drafting: a judge without an endpoint is bad input, said at once
        from copilot.evaluation.judge import Judge

        judge = Judge(ctx.settings)
    settings = ctx.kb_settings()
    inspector = Inspector(settings, golden)

    result = SuiteResult(suite="drafting")
    checks: list[DraftChecks] = []
    writers: list[str] = []
    scores: list[float] = []
    for s in ctx.track(scenarios):
        d = draft_reply(request_for(s), writer=ctx.writer, settings=settings)
        c = inspector.inspect(s, d)
        checks.append(c)
        writers.append(d.writer)
        detail: dict[str, Any] = {"draft": d.draft, "verdict": d.verdict, "writer": d.writer}
        if judge is not None:
            score = judge.score(s.message, d)
            scores.append(score)
            detail["judge"] = score
        if not c.passed:
            result.failures.append(CaseFailure(id=s.id, reason="；".join(c.problems), detail=detail))

    m = result.metrics
    m["grounded_rate"] = share(c.grounded for c in checks)
    m["citations_resolve_rate"] = share(c.citations_resolve for c in checks)
    m["disclosure_rate"] = share(c.disclosure for c in checks)
    m["no_guarantee_rate"] = share(c.no_guarantee for c in checks)
    m["persona_rate"] = share(c.persona for c in checks)
    m["persona.length_rate"] = share(c.length for c in checks)
    m["persona.salutation_rate"] = share(c.salutation for c in checks)
    m["persona.emoji_rate"] = share(c.emoji for c in checks)
    m["persona.ceiling_rate"] = share(c.ceiling for c in checks)
    m["expectations_rate"] = share(c.expectations for c in checks)
    m["unsafe_sendable"] = float(sum(c.unsafe_sendable for c in checks))
    m["pass_rate"] = share(c.passed for c in checks)
    m["fallback_rate"] = share(w != ctx.writer for w in writers)
    if scores:
        m["judge.score"] = sum(scores) / len(scores)
    for k in list(m):
        m[k] = round(m[k], 4)
    result.counts.update(
        scenarios=len(checks), disclosure_required=sum(c.disclosure_required for c in checks)
    )
    names = ["grounded_rate", "citations_resolve_rate", "disclosure_rate", "no_guarantee_rate",
             "persona_rate", "expectations_rate", "pass_rate"]  # fmt: skip
    result.charts.append(
        Chart(kind="bars", title="起草检查通过率", labels=names, series={ctx.writer: [m[n] for n in names]})
    )
    if any(w != ctx.writer for w in writers):
        result.notes.append(f"部分草稿由后备写作器生成: {sorted(set(writers))}")
    from copilot.evaluation.blind_drafting import run_blind

    run_blind(ctx, inspector, result)
    return result

