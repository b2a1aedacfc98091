"""The content under prompts/: every persona loads and is consistent with the product catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.domain import risk_rank
from copilot.drafting.facts import product_facts
from copilot.drafting.personas import PromptContentError, load_persona, load_rm_profile
from copilot.drafting.scenarios import scenario_book
from copilot.segments import segment_ids


@pytest.mark.parametrize("segment", [*segment_ids(), None])
def test_each_segment_has_a_persona_within_its_risk_ceiling(segment: str | None) -> None:
    settings = Settings()
    persona = load_persona(segment, settings)
    assert persona.segment == (segment or "default")
    assert persona.tone and persona.reading_level and persona.avoid
    for code in persona.suitable_products:
        facts = product_facts(code, settings)
        assert facts is not None, f"{segment}: unknown product {code}"
        assert not facts.expired, code
        if facts.risk_level:  # never steer a segment above its own ceiling
            assert risk_rank(facts.risk_level) <= risk_rank(persona.risk_ceiling), code


def test_pension_persona_is_conservative() -> None:
    persona = load_persona("pension", Settings())
    assert persona.risk_ceiling == "R2" and persona.emoji == "none"
    assert persona.greeting("60+") != persona.greeting(None)


def test_rm_profile_and_scenarios_load() -> None:
    settings = Settings()
    rm = load_rm_profile(settings)
    assert rm.name and rm.branch and rm.persona
    ids = [s.id for s in scenario_book(settings).scenarios]
    assert ids[0] == "injection" and ids[-1] == "general"


def test_a_broken_persona_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "prompts" / "personas").mkdir(parents=True)
    bad = tmp_path / "prompts" / "personas" / "pension.yaml"
    bad.write_text("segment: pension\nlabel: x\ntone: y\nmax_chars: 5\n", encoding="utf-8")
    with pytest.raises(PromptContentError, match=r"pension\.yaml.*max_chars"):
        load_persona("pension", Settings(content_root=tmp_path))
    bad.write_text("segment: [unclosed\n", encoding="utf-8")
    with pytest.raises(PromptContentError, match="YAML"):
        load_persona("pension", Settings(content_root=tmp_path))
