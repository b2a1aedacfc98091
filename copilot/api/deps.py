"""The services one app instance shares, and the dependencies that hand them to routes.

Everything heavy (the retriever with its embedding model, the WeCom client) is built on first use,
so the app starts fast and a test that never searches never loads a model.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from copilot.api.errors import ApiError
from copilot.api.gate import ModelGate
from copilot.auth import AuthStore, User
from copilot.config import Settings
from copilot.store import AuditStore


@dataclass
class Services:
    settings: Settings
    audit: AuditStore
    auth: AuthStore
    gate: ModelGate
    dev_login: bool = False  # see docs/api.md: loopback-only demo sign-in, off unless asked for
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _retriever: Any = None
    _wecom: Any = None

    def retriever(self) -> Any:
        """The app's one Retriever (it reloads itself when the index changes)."""
        with self._lock:
            if self._retriever is None:
                from copilot.retrieval import Retriever

                self._retriever = Retriever(self.settings)
            return self._retriever

    def wecom_configured(self) -> bool:
        s = self.settings
        return bool(s.wecom_corp_id and s.wecom_secret.get_secret_value())

    def wecom(self) -> Any:
        """The WeComClient (token and ticket caches live as long as the app)."""
        if not self.wecom_configured():
            raise ApiError(
                503,
                "wecom_not_configured",
                "未配置企业微信（corp_id / Secret），无法使用企业微信登录和 JS-SDK。",
            )
        with self._lock:
            if self._wecom is None:
                from copilot.wecom import WeComClient

                s = self.settings
                self._wecom = WeComClient(
                    s.wecom_base_url, s.wecom_corp_id, s.wecom_secret.get_secret_value()
                )
            return self._wecom

    def close(self) -> None:
        if self._wecom is not None:
            self._wecom.close()


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]

# auto_error=False: a missing header must produce our own 401 shape, not FastAPI's 403.
bearer_scheme = HTTPBearer(
    auto_error=False, description="`copilot users create` 生成的令牌，或企业微信登录得到的会话令牌"
)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, None, headers={"WWW-Authenticate": "Bearer"})


async def current_user(
    request: Request,
    svc: ServicesDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise _unauthorized("请先登录：请求缺少访问令牌（Authorization: Bearer …）。")
    user = await run_in_threadpool(svc.auth.authenticate, creds.credentials)
    if user is None:
        raise _unauthorized("访问令牌无效、已过期或已被吊销，请重新登录。")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]

ROLE_NAMES = {"rm": "客户经理", "compliance": "合规", "admin": "管理员"}


def require_role(*roles: str) -> Callable[..., Any]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    names = "、".join(ROLE_NAMES.get(r, r) for r in roles)

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"此操作仅限{names}角色。",
                {"required_roles": list(roles), "your_role": user.role},
            )
        return user

    return check


ComplianceUser = Annotated[User, Depends(require_role("compliance", "admin"))]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def is_direct_local_request(request: Request) -> bool:
    """A request from this machine that did not come through a proxy (a proxy on the same host
    would make every remote caller look local)."""
    client = request.client.host if request.client else None
    return is_loopback(client) and not any(h in request.headers for h in _PROXY_HEADERS)


# --- pagination ---------------------------------------------------------------------------------


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数（1–200）")] = 50,
    offset: Annotated[int, Query(ge=0, description="跳过的条数")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
