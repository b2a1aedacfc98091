"""Optional LLM judge for the drafting suite, through the configured OpenAI-compatible endpoint.

The deterministic checks decide pass or fail; the judge adds a graded opinion on what they cannot
see (does the reply answer the question, does it say only what the sources say). Personal data
is masked before anything is sent to the model.
"""

from __future__ import annotations

import json
import re

from copilot.config import Settings
from copilot.domain import Draft
from copilot.evaluation.errors import EvalInputError

SYSTEM = (
    "你是银行客户经理消息的质量评审。根据客户消息、草稿和草稿引用的来源打分，只输出一个 JSON 对象，"
    '格式为 {"faithfulness": 1-5, "helpfulness": 1-5, "reason": "一句话理由"}。'
    "faithfulness：草稿中的事实是否都能在来源中找到、没有承诺收益或保本；helpfulness：是否回应了客户的问题、"
    "语气是否得体。"
)
_JSON = re.compile(r"\{.*\}", re.S)
SOURCE_CHARS = 400  # per cited passage: enough to judge, small enough for a small model's context


class Judge:
    def __init__(self, settings: Settings):
        if not settings.llm_base_url:
            raise EvalInputError("--judge 需要配置 LLM 端点（环境变量 COPILOT_LLM_BASE_URL）")
        from openai import OpenAI

        self.model = settings.llm_model
        self.client = OpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value() or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=1,
        )

    def prompt(self, message: str, draft: Draft) -> str:
        from copilot.compliance import mask_pii

        sources = (
            "\n".join(f"[{c.n}] {c.title}：{c.text[:SOURCE_CHARS]}" for c in draft.citations) or "（无）"
        )
        return (
            f"客户消息：{mask_pii(message)}\n\n草稿：{mask_pii(draft.draft)}\n\n来源：\n{mask_pii(sources)}"
        )

    def score(self, message: str, draft: Draft) -> float:
        """0–1 (the mean of both 1–5 scores, rescaled); 0 when the answer cannot be read."""
        reply = self.client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": self.prompt(message, draft)},
            ],
            temperature=0,
        )
        return parse_score(reply.choices[0].message.content or "")


def parse_score(text: str) -> float:
    m = _JSON.search(text)
    if not m:
        return 0.0
    try:
        data = json.loads(m.group(0))
        values = [float(data["faithfulness"]), float(data["helpfulness"])]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return 0.0
    clipped = [min(5.0, max(1.0, v)) for v in values]
    return sum((v - 1) / 4 for v in clipped) / len(clipped)
