"""The few types every part of the copilot shares.

Data flows one way: request -> retrieval (Hit) -> drafting (Draft) -> compliance (Verdict)
-> store -> response. These are plain pydantic models so they serialise straight to the API.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class Segment(StrEnum):
    credit_card = "credit_card"  # 信用卡客群
    payroll = "payroll"  # 代发工资客群
    pension = "pension"  # 社保/养老客群
    branch_nearby = "branch_nearby"  # 网周客群


SEGMENT_NAMES: dict[str, str] = {
    "credit_card": "信用卡客群",
    "payroll": "代发工资客群",
    "pension": "社保养老客群",
    "branch_nearby": "网点周边客群",
}


class DocType(StrEnum):
    product = "product"  # 产品说明书
    education = "education"  # 投资者教育
    script = "script"  # 经审批话术
    playbook = "playbook"  # 客群经营手册
    regulation = "regulation"  # 法规条文
    other = "other"


PRODUCT_RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")
CUSTOMER_RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")


def risk_rank(level: str) -> int:
    """R3 -> 3, C2 -> 2. Raises ValueError on anything else."""
    level = level.strip().upper()
    if len(level) != 2 or level[0] not in "RC" or level[1] not in "12345":
        raise ValueError(f"不是有效的风险等级: {level!r}（应为 R1–R5 或 C1–C5）")
    return int(level[1])


Severity = Literal["block", "revise", "warn"]
VerdictKind = Literal["pass", "revise", "block"]
Channel = Literal["one_to_one", "group", "moments"]
Direction = Literal["inbound", "outbound"]


class Hit(BaseModel):
    """One retrieved passage (a chunk of a knowledge document) with its provenance."""

    chunk_id: str
    doc_id: str
    title: str
    heading: str = ""  # heading path joined with " > "
    text: str
    source_path: str
    doc_type: str = DocType.other
    segments: list[str] = Field(default_factory=list)
    product_code: str = ""
    risk_level: str = ""
    version: str = ""
    effective_date: str = ""
    expiry_date: str = ""
    score: float = 0.0


class Citation(BaseModel):
    """A numbered source a draft rests on; ``n`` matches the [n] marker in the text."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    heading: str = ""
    source_path: str
    version: str = ""
    effective_date: str = ""
    text: str = ""


class CheckContext(BaseModel):
    segment: Segment | None = None
    customer_risk: str | None = None  # C1..C5
    product_codes: list[str] = Field(default_factory=list)
    channel: Channel = "one_to_one"
    direction: Direction = "outbound"


class Finding(BaseModel):
    rule: str
    category: str
    severity: Severity
    start: int
    end: int
    text: str
    message: str
    citation: str = ""
    suggestion: str = ""


class Verdict(BaseModel):
    verdict: VerdictKind
    findings: list[Finding] = Field(default_factory=list)
    revised: str | None = None  # the text with every automatic fix applied (verdict revise)


class CustomerProfile(BaseModel):
    segment: Segment
    risk_level: str | None = None  # C1..C5
    age_band: str | None = None  # e.g. "60+"
    tags: list[str] = Field(default_factory=list)
    products_held: list[str] = Field(default_factory=list)
    ref: str | None = None  # pseudonymous customer reference, never a name or number

    @field_validator("risk_level")
    @classmethod
    def _customer_risk(cls, v: str | None) -> str | None:
        """The one place a customer's risk level is validated: C1–C5, upper-cased."""
        if not v:
            return v
        level = v.strip().upper()
        if level not in CUSTOMER_RISK_LEVELS:
            raise ValueError(f"客户风险测评等级应为 C1–C5，收到 {v!r}")
        return level


class RMProfile(BaseModel):
    name: str = "小林"
    branch: str = "青禾银行城南支行"
    persona: str = ""  # 人设, e.g. "爱好摄影，周末常组织拍花活动"


class Turn(BaseModel):
    role: Literal["customer", "rm"]
    text: str


class Draft(BaseModel):
    draft: str
    citations: list[Citation] = Field(default_factory=list)
    verdict: VerdictKind
    findings: list[Finding] = Field(default_factory=list)
    writer: str
    model: str = ""
    sendable: bool = False
    fallback_reason: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    audit_id: str | None = None


class PostSlot(BaseModel):
    at: dt.datetime
    segment: Segment
    groups: list[str] = Field(default_factory=list)
    channel: Literal["group", "moments", "one_to_one"] = "group"
    format: str = "text"
    theme: str
    copy_text: str = Field("", alias="copy")
    citations: list[Citation] = Field(default_factory=list)
    verdict: VerdictKind = "block"
    findings: list[Finding] = Field(default_factory=list)
    payload: dict = Field(default_factory=dict)

    model_config = {"populate_by_name": True}
