"""Every draft is checked for grounding: a figure no source backs never reaches a sendable draft."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.openai_server import FakeOpenAIServer  # tests/ is on sys.path (no package)

from copilot.config import Settings
from copilot.domain import CustomerProfile
from copilot.drafting import DraftRequest, stream_reply
from copilot.drafting.checking import check_draft
from copilot.drafting.events import Final, StartOver
from copilot.drafting.prepare import prepare_reply

QUESTION = "工资刚到账，有什么比活期收益高一点又能随时取的？"
# What the embedded 1.5B model once wrote to this question: a figure in no source, a deposit called a 理财产品.
INVENTED = "您好，活期存款是一种灵活的理财产品，具有高收益的特点，年化收益率通常在3%左右，您可以随时取用。"


def _req() -> DraftRequest:
    return DraftRequest(message=QUESTION, customer=CustomerProfile(segment="payroll", risk_level="C2"))


@pytest.fixture
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def test_the_invented_rate_and_product_type_are_findings_with_spans(kb_settings: Settings) -> None:
    brief, _ = prepare_reply(_req(), kb_settings)
    verdict = check_draft(INVENTED, brief, model=True)
    assert verdict.verdict == "block"
    found = {f.rule: f for f in verdict.findings}
    assert INVENTED[found["ungrounded-figure"].start : found["ungrounded-figure"].end] == "3%"
    assert found["product-type-mismatch"].text == "理财产品"


def test_a_model_draft_with_an_invented_rate_never_becomes_sendable(kb_settings: Settings, llm) -> None:
    llm.reset(replies=[INVENTED, INVENTED, INVENTED])
    settings = kb_settings.model_copy(update={"llm_base_url": llm.base_url, "llm_timeout_s": 5.0})
    events = list(stream_reply(_req(), writer="openai", settings=settings))
    draft = next(e.draft for e in events if isinstance(e, Final))
    assert any(isinstance(e, StartOver) for e in events)  # the ladder moved on
    assert "3%" not in draft.draft and "左右" not in draft.draft
    assert draft.sendable and draft.writer == "template"
    assert "天天利" in draft.draft  # the answer names what the question asks for (随时取)


def test_template_drafts_quote_only_sourced_figures(kb_settings: Settings) -> None:
    brief, _ = prepare_reply(_req(), kb_settings)
    from copilot.drafting import draft_reply

    d = draft_reply(_req(), writer="template", settings=kb_settings)
    assert check_draft(d.draft, brief).verdict in ("pass", "revise")
    assert not [f for f in d.findings if f.category == "grounding"]
