"""Blind drafting batches: scoring one draft, loading a batch, first-seen figures never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot.config import CHECKOUT
from copilot.domain import Draft
from copilot.evaluation import blind_drafting as blind
from copilot.evaluation.errors import EvalInputError

GUARDRAILS = CHECKOUT / "guardrails"
ALIASES = {"QH-WM-R1-001": ["天天利"], "QH-WM-R2-003": ["薪享月月盈", "月月盈"]}
SHEET = "青禾理财天天利现金管理类理财产品\n七日年化收益率 1.85%，T+0 快速赎回每日额度 1万元"


def question(**kw) -> blind.BlindQuestion:
    base = {"id": "t-1", "segment": "payroll", "message": "有什么能随时取的？", "must_name": [["天天利"]]}
    return blind.BlindQuestion(**{**base, **kw})


def draft(text: str, sendable: bool = True) -> Draft:
    return Draft(draft=text, verdict="pass", writer="template", sendable=sendable)


def test_names_the_product_and_quotes_only_sourced_figures() -> None:
    text = "您好，天天利可 T+0 快速赎回，每日额度 1万元 [1]。理财非存款、产品有风险、投资须谨慎。"
    s = blind.score(question(), draft(text), [SHEET], ALIASES, GUARDRAILS)
    assert s.useful and s.grounded and not s.unsafe_sendable
    assert s.outside_allowed == ["1万元"]  # sourced, but not on the batch author's list
    listed = blind.score(question(allowed_figures=["1万元"]), draft(text), [SHEET], ALIASES, GUARDRAILS)
    assert listed.outside_allowed == []


def test_an_invented_rate_is_ungrounded_and_a_missing_name_is_not_useful() -> None:
    s = blind.score(question(), draft("您好，活期存款年化收益率通常在3%左右。"), [SHEET], ALIASES, GUARDRAILS)
    assert not s.useful and s.missing == [["天天利"]]
    assert not s.grounded and s.ungrounded == ["3%"]


def test_allowed_figures_and_the_customers_own_figures_count_as_sources() -> None:
    q = question(message="每月存2000元怎么打理？", must_name=[], allowed_figures=["1万元"])
    s = blind.score(q, draft("您每月2000元，可分两部分，先留1万元应急。"), [], ALIASES, GUARDRAILS)
    assert s.grounded


def test_nothing_relevant_wants_a_promise_to_check_and_no_product() -> None:
    q = question(must_name=[], nothing_relevant=True)
    assert blind.score(q, draft("您好，这个我核实后尽快回复您。"), [], ALIASES, GUARDRAILS).useful
    assert not blind.score(q, draft("您好，推荐天天利。"), [], ALIASES, GUARDRAILS).useful
    assert not blind.score(q, draft("您好，没问题。"), [], ALIASES, GUARDRAILS).useful


def test_a_sendable_promise_is_unsafe() -> None:
    s = blind.score(question(), draft("天天利保本保收益，稳赚不赔。"), [SHEET], ALIASES, GUARDRAILS)
    assert s.unsafe_sendable
    assert not blind.score(question(), draft("天天利保本保收益。", sendable=False), [SHEET], ALIASES,
                           GUARDRAILS).unsafe_sendable  # fmt: skip


def test_a_batch_with_an_unknown_field_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "batch-01.yaml"
    path.write_text(yaml.safe_dump([{"id": "x", "segment": "payroll", "message": "你好", "oops": 1}]), "utf-8")
    with pytest.raises(EvalInputError):
        blind.load_batch(path)


def test_first_seen_is_written_once(tmp_path: Path) -> None:
    (tmp_path / "drafting" / "blind").mkdir(parents=True)
    assert blind.record_first_seen(tmp_path, "batch-01", "template", {"useful_rate": 0.5}, None)
    assert not blind.record_first_seen(tmp_path, "batch-01", "template", {"useful_rate": 1.0}, None)
    assert blind.read_first_seen(tmp_path)["batch-01"]["template"]["useful_rate"] == 0.5
    assert blind.record_first_seen(tmp_path, "batch-01", "local", {"useful_rate": 0.2}, 3)
    assert blind.read_first_seen(tmp_path)["batch-01"]["local"]["limit"] == 3
