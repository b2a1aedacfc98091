"""Rendering prompts/templates/*.j2: chat messages for model writers, text for the template writer."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from copilot.config import Settings
from copilot.drafting.personas import Persona, PromptContentError
from copilot.drafting.scripts import script_by_id
from copilot.drafting.task import WritingTask

SCRIPT_EXCERPT_CHARS = 160
FEW_SHOT_CHARS = 110
_EMOJI_RULES = {
    "none": "不用表情符号。",
    "sparing": "表情符号最多一个。",
    "allowed": "可以适当使用表情符号。",
}


@lru_cache(maxsize=4)
def _env(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,  # a typo in a template fails loudly, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # plain text for a chat model, never HTML
        auto_reload=True,
    )


def render(name: str, settings: Settings, **context: Any) -> str:
    try:
        template = _env(settings.prompts_dir / "templates").get_template(name)
        return template.render(**context).strip()
    except jinja2.TemplateNotFound as exc:
        raise PromptContentError(f"{settings.prompts_dir / 'templates' / name}: 模板文件不存在") from exc
    except jinja2.TemplateError as exc:
        raise PromptContentError(f"{name}: 模板错误（{exc}）") from exc


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip("，、；") + "…"


@lru_cache(maxsize=16)
def _few_shot(ids: tuple[str, ...], knowledge_dir: Path) -> str:
    examples = []
    for doc_id in ids:
        script = script_by_id(doc_id, knowledge_dir)
        if script is not None:
            examples.append("“" + _clip(script.blocks[0].text.replace("\n", ""), FEW_SHOT_CHARS) + "”")
    return "\n".join(examples)


def emoji_rule(persona: Persona) -> str:
    return _EMOJI_RULES[persona.emoji]


def customer_line(task: WritingTask) -> str:
    c = task.customer
    if c is None:
        return f"客群：{task.persona.label}"
    parts = [f"客群：{task.persona.label}"]
    parts.append(f"风险测评：{c.risk_level}" if c.risk_level else "风险测评：未知（涉及理财须先测评）")
    if c.age_band:
        parts.append(f"年龄：{c.age_band}")
    if c.tags:
        parts.append("标签：" + "、".join(c.tags[:5]))
    if c.products_held:
        parts.append("已持有：" + "、".join(c.products_held[:5]))
    parts.append(f"可推荐的风险上限：{task.ceiling}")
    return "；".join(parts)


def render_system(task: WritingTask, settings: Settings) -> str:
    return render(
        "system.md.j2",
        settings,
        rm=task.rm,
        persona=task.persona,
        emoji_rule=emoji_rule(task.persona),
        few_shot=_few_shot(tuple(task.persona.few_shot), settings.knowledge_dir),
    )


def render_messages(task: WritingTask, settings: Settings) -> list[tuple[str, str]]:
    """(role, content) pairs for ChatOpenAI: the static system prompt first, then this request."""
    script_excerpt = ""
    if task.script is not None:
        from copilot.drafting.scripts import load_script

        script = load_script(Path(task.script.hit.source_path))
        if script is not None:
            block = script.block_for(task.message or task.theme)
            script_excerpt = _clip(block.text.replace("\n", ""), SCRIPT_EXCERPT_CHARS)
    common = {
        "rm": task.rm,
        "persona": task.persona,
        "sources": task.sources,
        "script_excerpt": script_excerpt,
        "feedback": task.feedback,
    }
    if task.kind == "post":
        user = render(
            "post.md.j2", settings, theme=task.theme, brief=task.brief, channel=task.channel, **common
        )
    else:
        user = render(
            "reply.md.j2",
            settings,
            customer_line=customer_line(task),
            unsuitable=task.unsuitable,
            alternatives=task.alternatives,
            ceiling=task.ceiling,
            scenarios=task.scenarios,
            history=task.history[-4:],
            message=task.message,
            **common,
        )
    return [("system", render_system(task, settings)), ("human", user)]
