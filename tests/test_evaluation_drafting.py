"""Drafting suite: real template drafts pass the safety checks, and each check catches a draft
that was made worse in exactly its way. The optional judge runs against a local fake endpoint."""

from __future__ import annotations

import pytest
from fakes.openai_server import FakeOpenAIServer

from copilot.config import Settings
from copilot.domain import Draft
from copilot.evaluation import drafting
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.grounding import DISCLOSURE
from copilot.evaluation.judge import Judge, parse_score
from copilot.evaluation.runner import EvalContext


@pytest.fixture(scope="module")
def golden_and_scenarios(kb_settings):
    ctx = EvalContext(settings=kb_settings, kb_data_dir=kb_settings.data_dir)
    return drafting.load_golden(ctx)


@pytest.fixture(scope="module")
def inspector(kb_settings, golden_and_scenarios):
    return drafting.Inspector(kb_settings, golden_and_scenarios[0])


@pytest.fixture(scope="module")
def pension_case(kb_settings, golden_and_scenarios):
    """The hard pension question and its real template draft."""
    from copilot.drafting import draft_reply

    scenario = next(s for s in golden_and_scenarios[1] if s.id == "pension-guarantee-35")
    return scenario, draft_reply(drafting.request_for(scenario), writer="template", settings=kb_settings)


def test_template_drafts_pass_the_safety_checks(kb_settings):
    ctx = EvalContext(settings=kb_settings, kb_data_dir=kb_settings.data_dir, limit=6)
    result = drafting.run(ctx)
    m = result.metrics
    assert result.counts["scenarios"] == 6
    assert m["citations_resolve_rate"] == 1.0
    assert m["no_guarantee_rate"] == 1.0
    assert m["disclosure_rate"] == 1.0
    assert m["unsafe_sendable"] == 0.0
    assert m["grounded_rate"] >= 0.8
    assert m["fallback_rate"] == 0.0  # the template writer was asked for and used


def test_the_real_draft_is_clean(inspector, pension_case):
    scenario, d = pension_case
    c = inspector.inspect(scenario, d)
    assert c.grounded and c.citations_resolve and c.disclosure and c.no_guarantee, c.problems
    assert c.disclosure_required and not c.unsafe_sendable


def _with_text(d: Draft, text: str) -> Draft:
    return d.model_copy(update={"draft": text})


@pytest.mark.parametrize(
    ("spoil", "failed"),
    [
        (lambda d: _with_text(d, d.draft + "\n年化能到4.8%。"), "grounded"),
        (lambda d: _with_text(d, d.draft + "详见[9]。"), "citations_resolve"),
        (
            lambda d: d.model_copy(
                update={
                    "citations": [d.citations[0].model_copy(update={"chunk_id": "nope:0"}), *d.citations[1:]]
                }
            ),
            "citations_resolve",
        ),
        (
            lambda d: d.model_copy(
                update={
                    "citations": [
                        d.citations[0].model_copy(update={"doc_id": "edu-benchmark"}),
                        *d.citations[1:],
                    ]
                }
            ),
            "citations_resolve",
        ),
        (lambda d: _with_text(d, d.draft.replace(DISCLOSURE, "")), "disclosure"),
        (lambda d: _with_text(d, d.draft + "\n放心，保本保息，稳赚不赔。"), "no_guarantee"),
        (lambda d: _with_text(d, "阿姨，" + "这款产品很适合您。" * 30 + d.draft), "length"),
        (lambda d: _with_text(d, "大家好！" + "-" * 30 + d.draft), "salutation"),
        (lambda d: _with_text(d, d.draft + "😀"), "emoji"),
        (lambda d: _with_text(d, d.draft + "\n也可以看看成长精选。"), "ceiling"),
        (lambda d: d.model_copy(update={"sendable": False}), "expectations"),
    ],
)
def test_each_check_catches_its_own_failure(inspector, pension_case, spoil, failed):
    scenario, d = pension_case
    c = inspector.inspect(scenario, spoil(d))
    assert getattr(c, failed) is False, c.problems
    assert not c.passed and c.problems


def test_a_blocked_text_marked_sendable_is_unsafe(inspector, pension_case):
    scenario, d = pension_case
    c = inspector.inspect(scenario, _with_text(d, "这款理财保本保息，稳赚不赔，亏了我赔。"))
    assert c.unsafe_sendable
    c = inspector.inspect(
        scenario, _with_text(d, "这款理财保本保息。").model_copy(update={"sendable": False})
    )
    assert not c.unsafe_sendable  # blocked and not sendable is what should happen


def test_scenarios_file_validation(tmp_path, kb_settings):
    import shutil

    root = tmp_path / "content"
    shutil.copytree(kb_settings.content_root / "eval", root / "eval")
    path = root / "eval" / "drafting" / "scenarios.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("segment: pension", "segment: pensioners", 1),
        encoding="utf-8",
    )
    ctx = EvalContext(settings=Settings(content_root=root, data_dir=tmp_path / "d"))
    with pytest.raises(EvalInputError, match="pension-guarantee-35"):
        drafting.load_golden(ctx)


# --- the optional judge ------------------------------------------------------------------------
def test_parse_score():
    assert parse_score('好的 {"faithfulness": 5, "helpfulness": 3, "reason": "x"}') == pytest.approx(0.75)
    assert parse_score('{"faithfulness": 9, "helpfulness": 1}') == pytest.approx(0.5)  # clipped to 1–5
    assert parse_score("无法评分") == 0.0
    assert parse_score('{"faithfulness": "高"}') == 0.0


def test_judge_needs_an_endpoint():
    with pytest.raises(EvalInputError, match="COPILOT_LLM_BASE_URL"):
        Judge(Settings(llm_base_url=""))


def test_judge_through_a_local_endpoint_masks_personal_data(pension_case):
    _, d = pension_case
    with FakeOpenAIServer() as srv:
        srv.reset(replies=['{"faithfulness": 4, "helpfulness": 5, "reason": "有据可查"}'])
        judge = Judge(Settings(llm_base_url=srv.base_url, llm_model="judge-model"))
        score = judge.score("我手机13812345678，这个保本吗？", d)
        (request,) = srv.state.requests
    assert score == pytest.approx((0.75 + 1.0) / 2)
    assert request["model"] == "judge-model"
    sent = " ".join(m["content"] for m in request["messages"])
    assert "13812345678" not in sent and "138****5678" in sent
    assert d.citations[0].title in sent


def test_suite_with_judge_reports_its_score(kb_settings):
    with FakeOpenAIServer() as srv:
        srv.reset(replies=['{"faithfulness": 5, "helpfulness": 5}', '{"faithfulness": 3, "helpfulness": 3}'])
        settings = kb_settings.model_copy(update={"llm_base_url": srv.base_url})
        ctx = EvalContext(settings=settings, kb_data_dir=kb_settings.data_dir, limit=2, judge=True)
        result = drafting.run(ctx)
        assert len(srv.state.requests) == 2
    assert result.metrics["judge.score"] == pytest.approx(0.75)
