"""The strategy ladder (copilot/drafting/attempts.py) on its own: no writer, no model, no index."""

from __future__ import annotations

from copilot.domain import Finding, Verdict
from copilot.drafting.attempts import MAX_REWRITES, Attempt, Failed, first_attempt, next_attempt


def _finding(text: str, severity: str = "block", category: str = "guarantee") -> Finding:
    return Finding(rule="r", category=category, severity=severity, start=0, end=len(text), text=text, message="m")


BLOCKED = Verdict(verdict="block", findings=[_finding("保本"), _finding("保本"), _finding("稳赚", "warn")])
PASSED = Verdict(verdict="pass")


def _ladder(attempt: Attempt, verdict: Verdict | Failed) -> list[Attempt]:
    """Every rung after ``attempt`` when each try ends with ``verdict``."""
    rungs = []
    while (following := next_attempt(attempt, verdict)) is not None:
        rungs.append(following)
        attempt = following
        assert len(rungs) < 10, "the ladder must end"
    return rungs


def test_a_pass_or_revise_keeps_the_draft() -> None:
    for verdict in (PASSED, Verdict(verdict="revise", revised="x")):
        assert next_attempt(first_attempt("local", has_script=True), verdict) is None
        assert next_attempt(first_attempt("template", has_script=True), verdict) is None


def test_the_whole_ladder_for_a_model_that_keeps_being_blocked() -> None:
    rungs = _ladder(first_attempt("openai", has_script=True), BLOCKED)
    steps = [(a.writer, a.rewrite, a.avoid_words, a.avoid, a.script, a.plain, a.announce) for a in rungs]
    assert steps == [
        ("openai", 1, ("保本",), (), True, False, "retry"),  # rewritten once, told the blocked words
        ("template", 1, (), (), True, False, "fallback"),  # then the template writer on the script
        ("template", 1, (), ("保本", "保本"), True, False, "retry"),  # without the blocked sentences
        ("template", 1, (), ("保本", "保本"), False, False, "retry"),  # without the script
        ("template", 1, (), ("保本", "保本"), False, True, "retry"),  # plain wording and facts
    ]
    assert MAX_REWRITES == 1
    assert rungs[1].fallback_reason == "模型草稿重写后仍未通过合规检查；已改用模板"
    assert all(a.fallback_reason == rungs[1].fallback_reason for a in rungs[1:])
    assert all(a.reason for a in rungs)


def test_without_a_script_the_script_rung_is_skipped() -> None:
    rungs = _ladder(first_attempt("template", has_script=False), BLOCKED)
    avoid = ("保本", "保本")
    assert [(a.avoid, a.script, a.plain) for a in rungs] == [(avoid, False, False), (avoid, False, True)]


def test_a_block_without_blocked_words_goes_straight_to_the_script_rung() -> None:
    no_words = Verdict(verdict="block", findings=[_finding("")])
    rungs = _ladder(first_attempt("template", has_script=True), no_words)
    assert [(a.avoid, a.script, a.plain) for a in rungs] == [((), False, False), ((), False, True)]


def test_a_failed_model_falls_back_to_templates_with_its_reason() -> None:
    start = first_attempt("local", has_script=True, downgrade="")
    fallback = next_attempt(start, Failed("模型输出中途中断（连接被断开）"))
    assert fallback is not None and fallback.writer == "template" and fallback.announce == "fallback"
    assert fallback.fallback_reason == "本地模型不可用：模型输出中途中断（连接被断开）；已改用模板"
    assert fallback.script and not fallback.avoid and not fallback.plain


def test_a_failed_rewrite_also_falls_back_and_drops_the_model_feedback() -> None:
    rewrite = next_attempt(first_attempt("openai", has_script=False), BLOCKED)
    assert rewrite is not None and rewrite.avoid_words == ("保本",)
    fallback = next_attempt(rewrite, Failed("模型服务响应超时（超过 30 秒）"))
    assert fallback is not None and fallback.writer == "template" and fallback.avoid_words == ()
    assert fallback.fallback_reason.startswith("模型服务不可用：")


def test_a_failed_template_has_nothing_after_it() -> None:
    assert next_attempt(first_attempt("template", has_script=True), Failed("x")) is None


def test_a_checker_failure_stops_at_once() -> None:
    internal = Verdict(verdict="block", findings=[_finding("保本"), _finding("", category="internal")])
    assert next_attempt(first_attempt("openai", has_script=True), internal) is None
    assert next_attempt(first_attempt("template", has_script=True), internal) is None


def test_the_downgrade_is_carried_until_another_fallback_replaces_it() -> None:
    downgrade = "未配置模型服务地址（COPILOT_LLM_BASE_URL），已改用模板"
    start = first_attempt("template", has_script=True, downgrade=downgrade)
    rungs = _ladder(start, BLOCKED)
    assert all(a.fallback_reason == start.fallback_reason for a in rungs)


def test_attempts_are_frozen() -> None:
    import dataclasses

    import pytest

    with pytest.raises(dataclasses.FrozenInstanceError):
        first_attempt("template", has_script=True).plain = True  # type: ignore[misc]


def test_a_blocked_embedded_model_draft_goes_to_templates_at_once() -> None:
    """The embedded model's rewrite costs the RM another draft's wait (settings.local_model_rewrites = 0)."""
    from copilot.config import Settings
    from copilot.drafting.attempts import rewrites_for

    settings = Settings()
    assert rewrites_for("local", settings) == settings.local_model_rewrites == 0
    assert rewrites_for("openai", settings) == MAX_REWRITES
    following = next_attempt(first_attempt("local", True, max_rewrites=0), BLOCKED)
    assert following is not None and following.writer == "template" and following.announce == "fallback"
    assert following.fallback_reason == "模型草稿未通过合规检查；已改用模板"


def test_a_model_allowed_rewrites_uses_them_before_templates() -> None:
    rungs = _ladder(first_attempt("local", True, max_rewrites=2), BLOCKED)
    assert [a.writer for a in rungs[:3]] == ["local", "local", "template"]
    assert rungs[2].fallback_reason == "模型草稿重写后仍未通过合规检查；已改用模板"
