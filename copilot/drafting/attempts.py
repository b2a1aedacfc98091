"""The strategy ladder as data: one frozen ``Attempt`` per try and ``next_attempt`` to go down a rung.

    model ─block→ model, rewritten with the blocked words to avoid ─block→ template ┐
      └─fails (no answer, unusable text)→ template ←──────────────────────────────────┘
    template ─block→ without the blocked sentences ─block→ without the script
             ─block→ plain wording and exact facts only ─block→ stop (blocked, not sendable)

A pass or revise stops at once, and so does a checker failure (category ``internal``): nothing
passes unchecked and rewriting cannot help.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from copilot.config import Settings
from copilot.domain import Verdict

MAX_REWRITES = 1  # a blocked model draft is rewritten once with the findings, then templates
WRITER_LABELS = {"openai": "模型服务", "local": "本地模型", "template": "模板"}


@dataclass(frozen=True)
class Attempt:
    writer: str  # "openai" | "local" | "template"
    rewrite: int = 0  # model rewrites so far: a rewrite samples hotter, with another seed
    max_rewrites: int = MAX_REWRITES  # then the template writer takes over
    avoid_words: tuple[str, ...] = ()  # model: the words the checker blocked last time
    avoid: tuple[str, ...] = ()  # template: leave out the sentences holding these
    script: bool = True  # build on the brief's approved script (if it has one)
    plain: bool = False  # template: fixed wording and exact facts only
    fallback_reason: str = ""  # why the writer asked for is not the one writing (on the draft)
    announce: Literal["", "retry", "fallback"] = ""  # what the client is told when this try starts
    reason: str = ""

    @property
    def model(self) -> bool:
        return self.writer != "template"


@dataclass(frozen=True)
class Failed:
    """A writer produced no usable text (``reason`` is Chinese, from ``WriterError``)."""

    reason: str


def first_attempt(writer: str, has_script: bool, downgrade: str = "", max_rewrites: int = MAX_REWRITES) -> Attempt:
    """The first try: the chosen writer; ``downgrade`` says why it is not the one asked for."""
    return Attempt(writer=writer, script=has_script, fallback_reason=downgrade, max_rewrites=max_rewrites)


def rewrites_for(writer: str, settings: Settings) -> int:
    """How often a blocked draft of this writer is rewritten by the model before templates take
    over: a rewrite by the embedded model costs the RM another ~5 s, a hosted model's far less."""
    return settings.local_model_rewrites if writer == "local" else MAX_REWRITES


def _to_template(attempt: Attempt, reason: str) -> Attempt:
    return replace(
        attempt, writer="template", avoid_words=(), announce="fallback", reason=reason, fallback_reason=reason
    )


def _retry(attempt: Attempt, reason: str, **change: object) -> Attempt:
    return replace(attempt, announce="retry", reason=reason, **change)  # type: ignore[arg-type]


def next_attempt(attempt: Attempt, verdict: Verdict | Failed) -> Attempt | None:
    """The next rung after ``attempt`` ended with ``verdict``, or None: keep this result (a pass,
    a revise, a checker failure, or the last rung blocked) — or, for a failed template, raise."""
    if isinstance(verdict, Failed):
        if not attempt.model:
            return None
        label = WRITER_LABELS.get(attempt.writer, attempt.writer)
        return _to_template(attempt, f"{label}不可用：{verdict.reason}；已改用模板")
    if verdict.verdict != "block" or any(f.category == "internal" for f in verdict.findings):
        return None
    blocked = tuple(f.text for f in verdict.findings if f.severity == "block" and f.text)
    if attempt.model:
        if attempt.rewrite < attempt.max_rewrites:
            return _retry(
                attempt, "草稿未通过合规检查，正在按检查意见重写",
                rewrite=attempt.rewrite + 1, avoid_words=tuple(dict.fromkeys(blocked)),
            )  # fmt: skip
        if attempt.rewrite:
            return _to_template(attempt, "模型草稿重写后仍未通过合规检查；已改用模板")
        return _to_template(attempt, "模型草稿未通过合规检查；已改用模板")
    if blocked and not attempt.avoid:
        # a quoted passage is not approved copy: leave out what the rule pack objects to
        return _retry(attempt, "部分句子未通过合规检查，去掉后重新组织", avoid=blocked)
    if attempt.script:
        # the script passed on its own (vetted in the brief) but not with the facts around it
        return _retry(attempt, "审批话术加上产品信息后未通过合规检查，改用基础模板", script=False)
    if not attempt.plain:
        return _retry(attempt, "引用的资料未通过合规检查，改用基础模板", plain=True)
    return None
