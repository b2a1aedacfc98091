"""``POST /v1/check``: the compliance verdict for a text, recorded in the audit trail.

``checked()`` is the one place the service calls the guardrail. It fails closed: if the checker
itself raises (a broken rule pack, a bug), the answer is ``block`` with an internal-error finding,
never an approval.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import Field, field_validator
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import CurrentUser, ServicesDep
from copilot.config import Settings
from copilot.domain import CheckContext, Verdict, risk_rank

router = APIRouter(tags=["合规检查"])
log = logging.getLogger("copilot.api")

MAX_TEXT_CHARS = 5000  # WeCom's longest text (a moment) is 2,000 characters; leave room for pasted drafts


def blocked_by_error(where: str) -> Verdict:
    from copilot.compliance import fail_closed

    return fail_closed(where)


def checked(text: str, ctx: CheckContext, settings: Settings) -> Verdict:
    """The guardrail's verdict on ``text`` under this app's rule packs; any exception becomes
    ``block`` (fail closed)."""
    try:
        from copilot.compliance import check

        verdict = check(text, ctx, rules_dir=settings.guardrails_dir)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"checker returned {type(verdict).__name__}")
        return verdict
    except Exception:
        log.exception("compliance check failed; answering block")
        return blocked_by_error("合规检查程序出错")


def is_sendable(verdict: Verdict) -> bool:
    """A text written by a person may go out as it is only on ``pass``; on ``revise`` the revised
    text (with the automatic fixes) is what may be sent."""
    return verdict.verdict == "pass"


class CheckIn(CheckContext):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="要检查的文本")
    product_codes: list[str] = Field(default_factory=list, max_length=20)
    external_userid: str | None = Field(
        None, max_length=128, description="企业微信外部联系人 ID（只以假名存储）"
    )

    @field_validator("customer_risk")
    @classmethod
    def _risk(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        risk_rank(v)  # raises a Chinese ValueError
        if not v.strip().upper().startswith("C"):
            raise ValueError("客户风险等级应为 C1–C5")
        return v.strip().upper()

    def context(self) -> CheckContext:
        return CheckContext.model_validate(self.model_dump(include=set(CheckContext.model_fields)))


class CheckOut(Verdict):
    sendable: bool
    audit_id: str


@router.post("/check", response_model=CheckOut, summary="合规检查（pass / revise / block）")
async def check_text(body: CheckIn, user: CurrentUser, svc: ServicesDep) -> CheckOut:
    ctx = body.context()
    verdict = await run_in_threadpool(checked, body.text, ctx, svc.settings)
    payload = {
        "segment": ctx.segment.value if ctx.segment else None,
        "external_userid": body.external_userid,
        "context": ctx.model_dump(mode="json"),
        "text": body.text,
        "verdict": verdict,
        "findings": verdict.findings,
        "revised": verdict.revised,
        "sendable": is_sendable(verdict),
    }
    audit_id = await run_in_threadpool(svc.audit.record, "check", user.userid, payload)
    return CheckOut(**verdict.model_dump(), sendable=is_sendable(verdict), audit_id=audit_id)
