"""The drafting request, defined once (the service's ``DraftIn`` extends it), and drafting's errors."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from copilot.domain import Channel, CustomerProfile, RMProfile, Turn

MAX_MESSAGE_CHARS = 2000
MAX_HISTORY = 20
MAX_PRODUCTS = 5


class DraftingInputError(ValueError):
    """Bad input for a draft; the message is Chinese and says what to fix."""


class DraftingUnavailable(RuntimeError):
    """Drafting cannot run as configured (e.g. the knowledge index is empty); Chinese message.

    ``code`` is a stable slug for programs (the service answers 503 with it); ``public`` is the
    message for a client, without server paths (``str(exc)`` names the index folder for the CLI).
    """

    def __init__(self, message: str, code: str = "index_empty", public: str = ""):
        super().__init__(message)
        self.code = code
        self.public = public or message


class DraftRequest(BaseModel):
    """One customer message to answer. The customer's risk level is validated by its own type
    (``CustomerProfile``); the product codes are checked against the catalogue when drafting."""

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="客户发来的消息")
    customer: CustomerProfile
    rm: RMProfile | None = Field(None, description="客户经理资料（人设）；缺省时用部署的 prompts/rm_profile.yaml")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY, description="最近几轮对话")
    product_codes: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS, description="涉及的产品代码")
    channel: Channel = Field("one_to_one", description="单聊、客户群或朋友圈")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("客户消息为空")
        return v

    @field_validator("product_codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return [c.strip().upper() for c in v if c.strip()]
