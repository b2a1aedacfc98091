"""Who am I, sign-out, and the loopback-only demo sign-in.

The demo sign-in exists so that ``copilot serve`` on a laptop opens a usable panel without typing a
token. It is off unless ``copilot serve`` binds to a loopback address (or ``create_app(...,
dev_login=True)``), answers only requests that come straight from 127.0.0.1/::1 with no proxy
headers, and only ever signs in the demo RM account that ``copilot serve`` created, as a short-lived
session. Real deployments sign in through WeCom or with tokens from ``copilot users create``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from copilot.api.deps import (
    ROLE_NAMES,
    CurrentUser,
    ServicesDep,
    bearer_scheme,
    is_direct_local_request,
)
from copilot.api.errors import ApiError
from copilot.auth import SESSION_TOKEN_PREFIX, User

DEMO_USERID = "demo-rm"
DEMO_NAME = "演示客户经理"

router = APIRouter(tags=["登录与会话"])


class Me(BaseModel):
    userid: str
    name: str
    role: str
    role_name: str


class SessionOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in: int
    user: Me


class AuthOptions(BaseModel):
    dev_login: bool
    wecom: bool
    corp_id: str = ""
    agent_id: str = ""


def me_of(user: User) -> Me:
    return Me(
        userid=user.userid, name=user.name, role=user.role, role_name=ROLE_NAMES.get(user.role, user.role)
    )


@router.get("/me", response_model=Me, summary="当前登录用户")
async def me(user: CurrentUser) -> Me:
    return me_of(user)


@router.get("/auth/options", response_model=AuthOptions, summary="可用的登录方式（无需登录）")
async def auth_options(request: Request, svc: ServicesDep) -> AuthOptions:
    s = svc.settings
    dev = svc.dev_login and is_direct_local_request(request)
    if dev:  # offered only while the demo account exists and is enabled
        demo = await run_in_threadpool(svc.auth.find_user, DEMO_USERID)
        dev = demo is not None and not demo.disabled
    return AuthOptions(
        dev_login=dev,
        wecom=svc.wecom_configured(),
        corp_id=s.wecom_corp_id,
        agent_id=s.wecom_agent_id,
    )


@router.post("/auth/dev-login", response_model=SessionOut, summary="本机演示登录（仅 127.0.0.1，默认关闭）")
async def dev_login(request: Request, svc: ServicesDep) -> SessionOut:
    if not svc.dev_login or not is_direct_local_request(request):
        # 404, not 403: outside its narrow case the endpoint does not exist.
        raise ApiError(404, "not_found", "本机演示登录未开启。请使用企业微信登录或访问令牌。")
    user = await run_in_threadpool(svc.auth.find_user, DEMO_USERID)
    if user is None or user.disabled or user.role != "rm":
        raise ApiError(
            404, "not_found", "演示账号不存在。请用 copilot users create 创建用户并使用其令牌登录。"
        )
    ttl = svc.settings.session_ttl_s
    token = await run_in_threadpool(svc.auth.create_session, DEMO_USERID, ttl)
    return SessionOut(token=token, expires_in=ttl, user=me_of(user))


@router.post("/auth/logout", summary="退出登录（吊销当前会话令牌）")
async def logout(
    user: CurrentUser,
    svc: ServicesDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> dict[str, bool]:
    token = creds.credentials if creds else ""
    # API tokens are managed with the CLI; signing out of the panel ends only a session.
    revoked = token.startswith(SESSION_TOKEN_PREFIX) and await run_in_threadpool(svc.auth.revoke, token)
    return {"revoked": bool(revoked)}
