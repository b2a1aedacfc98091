"""WeCom sidebar endpoints: OAuth sign-in, JS-SDK config, and the callback URL.

Sign-in: the sidebar page is opened through WeCom's OAuth redirect, which appends ``?code=…``;
the page posts the code here, we ask WeCom who it is (``auth/getuserinfo``), and answer a short-lived
session token for that member. Only members already in the user directory (``copilot users
create --userid <WeCom userid>``) get one: roles are granted by the bank, not by WeCom.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import CurrentUser, ServicesDep
from copilot.api.errors import ApiError
from copilot.api.session import SessionOut, me_of

router = APIRouter(prefix="/wecom", tags=["企业微信"])
log = logging.getLogger("copilot.api.wecom")


class LoginIn(BaseModel):
    code: str = Field(
        min_length=1, max_length=512, description="企业微信 OAuth 跳转带回的 code（一次性，5 分钟有效）"
    )


class JsConfig(BaseModel):
    appId: str = Field(description="企业 ID（corpid），ww.config 的 appId")
    corpid: str
    timestamp: int
    nonceStr: str
    signature: str
    agentid: str = ""
    agentSignature: str = Field("", description="ww.agentConfig 用的签名（应用 ticket）")


def _wecom_failure(exc: Exception) -> ApiError:
    from copilot.wecom import WeComError

    if isinstance(exc.__cause__, httpx.HTTPError) or (
        isinstance(exc, WeComError) and str(exc).startswith("企业微信服务器返回")
    ):
        return ApiError(
            503,
            "wecom_unavailable",
            "暂时无法连接企业微信服务器，请稍后重试。",
            None,
            headers={"Retry-After": "30"},
        )
    return ApiError(
        401, "wecom_login_failed", f"企业微信登录失败：{exc}", {"errcode": getattr(exc, "errcode", None)}
    )


@router.post("/login", response_model=SessionOut, summary="企业微信侧边栏登录：code → 会话令牌")
async def login(body: LoginIn, svc: ServicesDep) -> SessionOut:
    from copilot.wecom import WeComError

    client = svc.wecom()
    try:
        userid = await run_in_threadpool(client.get_user_info, body.code)
    except WeComError as exc:
        raise _wecom_failure(exc) from exc
    user = await run_in_threadpool(svc.auth.find_user, userid)
    if user is None or user.disabled:
        raise ApiError(
            403,
            "not_enrolled",
            "您的企业微信账号尚未开通客户经理助手，请联系管理员开通。",
            {"userid": userid},
        )
    ttl = svc.settings.session_ttl_s
    token = await run_in_threadpool(svc.auth.create_session, user.userid, ttl)
    return SessionOut(token=token, expires_in=ttl, user=me_of(user))


@router.get("/jsconfig", response_model=JsConfig, summary="JS-SDK 签名（ww.config / ww.agentConfig）")
async def jsconfig(
    user: CurrentUser,
    svc: ServicesDep,
    url: Annotated[
        str, Query(min_length=8, max_length=2048, description="当前页面完整 URL（# 之后的部分会被去掉）")
    ],
) -> JsConfig:
    from copilot.wecom import WeComError

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(422, "invalid_url", "url 应为当前页面的完整 http(s) 地址。", {"url": url})
    client = svc.wecom()
    try:
        cfg = await run_in_threadpool(client.js_sdk_config, url, agent_id=svc.settings.wecom_agent_id)
    except WeComError as exc:
        raise ApiError(
            503,
            "wecom_unavailable",
            f"获取企业微信 JS-SDK 签名失败：{exc}",
            None,
            headers={"Retry-After": "30"},
        ) from exc
    return JsConfig(appId=cfg["corpid"], **cfg)


# --- callback URL (called by WeCom's servers; the signature is the authentication) ---------------


def _xml_fields(text: str, *names: str) -> dict[str, str]:
    """Top-level fields of a WeCom XML message (expat refuses external entities and caps entity
    expansion, and the body is already size-limited)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ApiError(400, "bad_request", "回调内容不是有效的 XML。") from exc
    return {n: (root.findtext(n) or "").strip() for n in names if root.find(n) is not None}


def _crypto(svc: ServicesDep):  # type: ignore[no-untyped-def]
    from copilot.wecom import WeComCrypto, WeComCryptoError

    s = svc.settings
    token, key = s.wecom_token.get_secret_value(), s.wecom_aes_key.get_secret_value()
    if not (token and key and s.wecom_corp_id):
        raise ApiError(
            503, "wecom_not_configured", "未配置企业微信回调（Token / EncodingAESKey / corp_id）。"
        )
    try:
        return WeComCrypto(token, key, s.wecom_corp_id)
    except WeComCryptoError as exc:
        raise ApiError(503, "wecom_not_configured", f"企业微信回调配置有误：{exc}") from exc


def _rejected(exc: Exception) -> ApiError:
    return ApiError(403, "bad_signature", f"回调校验失败：{exc}")


@router.get("/callback", response_class=PlainTextResponse, summary="回调 URL 验证（返回解密后的 echostr）")
async def callback_verify(
    svc: ServicesDep,
    msg_signature: Annotated[str, Query(max_length=128)],
    timestamp: Annotated[str, Query(max_length=32)],
    nonce: Annotated[str, Query(max_length=128)],
    echostr: Annotated[str, Query(max_length=4096)],
) -> PlainTextResponse:
    from copilot.wecom import WeComCryptoError

    crypto = _crypto(svc)
    try:
        plain = crypto.verify_url(msg_signature, timestamp, nonce, echostr)
    except WeComCryptoError as exc:
        raise _rejected(exc) from exc
    return PlainTextResponse(plain)


@router.post("/callback", response_class=PlainTextResponse, summary="接收回调事件（校验签名并解密）")
async def callback_event(
    request: Request,
    svc: ServicesDep,
    msg_signature: Annotated[str, Query(max_length=128)],
    timestamp: Annotated[str, Query(max_length=32)],
    nonce: Annotated[str, Query(max_length=128)],
) -> PlainTextResponse:
    from copilot.wecom import WeComCryptoError

    crypto = _crypto(svc)
    body = (await request.body()).decode("utf-8", "replace")
    encrypt = _xml_fields(body, "Encrypt").get("Encrypt")
    if not encrypt:
        raise ApiError(400, "bad_request", "回调内容缺少 Encrypt 字段。")
    try:
        plain = crypto.decrypt(msg_signature, timestamp, nonce, encrypt)
    except WeComCryptoError as exc:
        raise _rejected(exc) from exc
    # Log only the event kind: the payload names customers.
    log.info("wecom callback %s", _xml_fields(plain, "MsgType", "Event", "ChangeType"))
    return PlainTextResponse("success")
