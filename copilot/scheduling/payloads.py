"""Per-slot request bodies shaped like WeCom's ``add_msg_template`` and ``add_moment_task``.

The sidebar submits them only after the RM confirms, and WeCom itself sends nothing until the
member confirms again in the client. Fields only known at submit time (the RM's ``sender``
userid, the customers' ``external_userid``) are listed in ``fill_in`` and left for the sidebar.
A post whose compliance verdict is ``block`` gets no body at all: it cannot be submitted.

Field names and limits: 企业微信开发者文档 创建企业群发 [92135] (chat_type single|group,
external_userid, chat_id_list, sender, allow_select, text.content up to 4,000 bytes, attachments
up to 9) and 创建发表任务 [96351] (text.content up to 2,000 characters; 9 images or 1 video or
1 link, not mixed; visible_range.sender_list / external_contact_list.tag_list).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from copilot.scheduling.calendars import Attachment

MSG_TEXT_MAX_BYTES = 4000
MOMENT_TEXT_MAX_CHARS = 2000
MAX_ATTACHMENTS = 9


class Text(BaseModel):
    content: str


class MsgTemplate(BaseModel):
    """Body of POST /cgi-bin/externalcontact/add_msg_template."""

    model_config = ConfigDict(extra="forbid")

    chat_type: Literal["single", "group"]
    sender: str = ""
    external_userid: list[str] | None = None
    chat_id_list: list[str] | None = Field(None, max_length=2000)
    allow_select: bool | None = None
    text: Text
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @field_validator("text")
    @classmethod
    def _text(cls, v: Text) -> Text:
        size = len(v.content.encode("utf-8"))
        if size > MSG_TEXT_MAX_BYTES:
            raise ValueError(f"群发文本 {size} 字节，超过企业微信上限 {MSG_TEXT_MAX_BYTES} 字节")
        return v


class MomentTask(BaseModel):
    """Body of POST /cgi-bin/externalcontact/add_moment_task."""

    model_config = ConfigDict(extra="forbid")

    text: Text
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    visible_range: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _text(cls, v: Text) -> Text:
        if len(v.content) > MOMENT_TEXT_MAX_CHARS:
            raise ValueError(f"朋友圈文本 {len(v.content)} 字，超过企业微信上限 {MOMENT_TEXT_MAX_CHARS} 字")
        return v

    @model_validator(mode="after")
    def _kinds(self) -> MomentTask:
        kinds = {a["msgtype"] for a in self.attachments}
        if len(kinds) > 1:
            raise ValueError(f"朋友圈附件类型不能混用: {sorted(kinds)}")
        if kinds - {"image", "video", "link"}:
            raise ValueError("朋友圈附件只支持 image、video、link")
        if kinds & {"video", "link"} and len(self.attachments) > 1:
            raise ValueError("朋友圈最多 1 个视频或 1 个链接")
        return self


def wecom_attachment(a: Attachment, for_moments: bool = False) -> dict[str, Any]:
    """One calendar attachment in WeCom's ``{msgtype, <msgtype>: {...}}`` form."""
    if a.msgtype == "image":
        inner = {"media_id": a.media_id} if a.media_id else {"pic_url": a.pic_url}
    elif a.msgtype == "link":
        inner = {"title": a.title, "url": a.url}
        if for_moments:
            inner.update({"media_id": a.media_id} if a.media_id else {})
        else:
            inner.update({k: v for k, v in {"desc": a.desc, "picurl": a.picurl}.items() if v})
    elif a.msgtype == "miniprogram":
        inner = {"title": a.title, "pic_media_id": a.pic_media_id, "appid": a.appid, "page": a.page}
    else:  # video, file
        inner = {"media_id": a.media_id}
    return {"msgtype": a.msgtype, a.msgtype: inner}


_MEDIA_TODO = {
    "video": "需上传视频素材后补充 attachments（video.media_id）",
    "image": "需上传海报/图片素材后补充 attachments（image.media_id）",
    "miniprogram": "需补充小程序卡片（miniprogram）",
    "link": "需补充 H5 链接卡片（link.title / link.url）",
}


def build_payload(
    *,
    channel: str,
    content: str,
    verdict: str,
    post_format: str,
    attachments: list[Attachment],
    chat_ids: list[str],
    tags: list[str],
) -> dict[str, Any]:
    """The request the sidebar submits for one slot, or a non-submittable stub with the reason."""
    api = "add_moment_task" if channel == "moments" else "add_msg_template"
    payload: dict[str, Any] = {"api": api, "requires_confirmation": True}
    if verdict == "block":
        # Fail closed: a blocked post carries no body the sidebar could send by mistake.
        payload.update(submittable=False, errors=["合规检查拦截，修改文案并重新检查后才能提交"])
        return payload
    has_media = any(a.msgtype == post_format for a in attachments)
    try:
        if channel == "moments":
            body = MomentTask(
                text=Text(content=content),
                attachments=[wecom_attachment(a, for_moments=True) for a in attachments],
                visible_range={"external_contact_list": {"tag_list": tags}} if tags else {},
            )
            fill_in = ["visible_range.sender_list.user_list"]
        elif channel == "group":
            body = MsgTemplate(
                chat_type="group",
                chat_id_list=chat_ids or None,
                text=Text(content=content),
                attachments=[wecom_attachment(a) for a in attachments],
            )
            fill_in = ["sender"] + ([] if chat_ids else ["chat_id_list"])
        else:
            body = MsgTemplate(
                chat_type="single",
                external_userid=[],
                allow_select=True,
                text=Text(content=content),
                attachments=[wecom_attachment(a) for a in attachments],
            )
            fill_in = ["sender", "external_userid"]
    except ValidationError as exc:
        errors = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
        payload.update(submittable=False, errors=errors)
        return payload
    payload.update(submittable=True, body=body.model_dump(exclude_none=True), fill_in=fill_in)
    if post_format in _MEDIA_TODO and not has_media:
        payload["media_todo"] = _MEDIA_TODO[post_format]
    return payload
