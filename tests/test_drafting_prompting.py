"""What a model is shown (prompting.py): only the passages the answer needs, and a fixed prefix
that a model server can cache and that the warm-up reads ahead of the first RM."""

from __future__ import annotations

from copilot.config import Settings
from copilot.domain import CustomerProfile
from copilot.drafting import DraftRequest
from copilot.drafting.attempts import first_attempt
from copilot.drafting.prepare import prepare_reply
from copilot.drafting.prompting import model_sources, render_messages, warm_up_messages


def _task(settings: Settings, message: str, segment: str, risk: str | None = None, codes: list[str] | None = None):
    req = DraftRequest(
        message=message,
        customer=CustomerProfile(segment=segment, risk_level=risk, age_band="60+" if segment == "pension" else None),
        product_codes=codes or [],
    )
    return prepare_reply(req, settings)[0]


def test_off_topic_passages_are_not_shown_to_the_model(kb_settings: Settings) -> None:
    task = _task(kb_settings, "券又没了！每次都抢不到，你们是不是骗人的？", "credit_card")
    education = [s for s in task.sources if s.hit.doc_type == "education"]
    assert education, "the case needs retrieved education passages to mean anything"
    shown = model_sources(task, kb_settings)
    # retrieval brought notes on 分期/逾期 and 业绩比较基准 along; a coupon complaint needs neither
    assert not [s for s in shown if "逾期" in s.snippet or "业绩比较基准" in s.hit.title]
    system = render_messages(task, first_attempt("local", task.script is not None), kb_settings)[0][1]
    for s in education:
        if s not in shown:
            assert s.snippet not in system


def test_an_unsuitable_products_sheet_is_not_shown_but_the_alternatives_are(kb_settings: Settings) -> None:
    task = _task(kb_settings, "我想买成长精选这个基金，能每个月定投吗？", "pension", "C2", ["QH-FD-R4-001"])
    assert [p.code for p in task.unsuitable] == ["QH-FD-R4-001"]
    assert any(s.hit.product_code == "QH-FD-R4-001" for s in task.sources)
    shown = model_sources(task, kb_settings)
    assert not [s for s in shown if s.hit.product_code == "QH-FD-R4-001"]
    alternatives = {a.code for a in task.alternatives}
    assert alternatives and any(s.hit.product_code in alternatives for s in shown)


def test_the_sheet_of_the_product_asked_about_is_shown(kb_settings: Settings) -> None:
    task = _task(kb_settings, "这个养老理财保本吗？能拿到3.5%吗？", "pension", "C2")
    shown = model_sources(task, kb_settings)
    assert any(s.hit.product_code == "QH-WM-R2-002" for s in shown)
    assert len(shown) <= 3


def test_warm_up_reads_the_prefix_every_draft_of_the_segment_starts_with(kb_settings: Settings) -> None:
    chats = warm_up_messages(kb_settings)
    personas = sorted(p.stem for p in (kb_settings.prompts_dir / "personas").glob("*.yaml"))
    assert [segment for segment, _ in chats] == personas and len(personas) >= 5
    prefixes = [chat[0][1] for _, chat in chats]
    assert len(set(prefixes)) == len(prefixes)  # one per segment, nothing read twice
    for message, segment in (("券又没了！", "credit_card"), ("这个养老理财保本吗？", "pension")):
        task = _task(kb_settings, message, segment)
        system = render_messages(task, first_attempt("local", task.script is not None), kb_settings)[0][1]
        own = prefixes[personas.index(segment)]
        assert system.startswith(own) and len(own) > 150
        assert sum(system.startswith(p) for p in prefixes) == 1
