"""One error shape for every failure: ``{"error": {"code", "message", "detail"}}``.

``message`` is Chinese and meant for the RM on screen; ``code`` is a stable English slug for
programs; ``detail`` carries whatever helps fix the request (field errors, limits, retry hints).
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

log = logging.getLogger("copilot.api")

# Default wording per status, used when a route raises a bare HTTPException.
DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求有误，请检查后重试。"),
    401: ("unauthorized", "请先登录（缺少或无效的访问令牌）。"),
    403: ("forbidden", "您没有权限执行此操作。"),
    404: ("not_found", "未找到请求的内容。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    409: ("conflict", "请求与当前状态冲突，请刷新后重试。"),
    413: ("too_large", "请求内容过大。"),
    415: ("unsupported_media_type", "不支持的内容类型。"),
    422: ("invalid_input", "输入内容不符合要求。"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。"),
    500: ("internal_error", "服务内部错误，已记录，请稍后重试或联系管理员。"),
    503: ("unavailable", "服务繁忙，请稍后重试。"),
}


class ApiError(Exception):
    """Raise from any route to answer with the common error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or {}


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def error_response(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, detail), status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header")]
        out.append({"field": ".".join(loc), "type": err.get("type", ""), "msg": err.get("msg", "")})
    return out


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = DEFAULT_ERRORS.get(exc.status_code, ("error", "请求失败。"))
    detail = exc.detail if isinstance(exc.detail, str | dict | list) else None
    if exc.status_code == 413:
        # Starlette's body limiter leaves the limit that applied in the scope.
        limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
        if isinstance(limit, int):
            message = f"请求内容过大（上限 {limit // 1024} KB），请精简后重试。"
            detail = {"limit_bytes": limit}
    return error_response(exc.status_code, code, message, detail, dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = _field_errors(exc)
    if any(f["type"] == "json_invalid" for f in fields):
        return error_response(400, "invalid_json", "请求体不是有效的 JSON。", fields)
    names = "、".join(sorted({f["field"] for f in fields if f["field"]})) or "请求"
    return error_response(422, "invalid_input", f"输入内容不符合要求：{names}。", fields)


# Retry-After for a database that went away: a restart or a fail-over takes seconds, not minutes.
STORAGE_RETRY_AFTER_S = 10
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return "disk is full" in text or "no space left" in text or "file too large" in text


def storage_error(exc: BaseException) -> JSONResponse:
    """A database that cannot be reached or a disk that is full: nothing was recorded, so the
    request did not take effect (the audit append is one transaction). 503, never a 500."""
    if _is_disk_full(exc):
        return error_response(
            503,
            "storage_full",
            "服务器存储空间已满，本次操作未生效、未留痕。请联系管理员清理磁盘后重试。",
            None,
            {"Retry-After": "60"},
        )
    return error_response(
        503,
        "storage_unavailable",
        f"审计数据库暂时无法连接，本次操作未生效、未留痕。请约 {STORAGE_RETRY_AFTER_S} 秒后重试。",
        {"retry_after_s": STORAGE_RETRY_AFTER_S},
        {"Retry-After": str(STORAGE_RETRY_AFTER_S)},
    )


async def _storage_failure(request: Request, exc: Exception) -> JSONResponse:
    log.error("storage failure on %s %s: %s", request.method, request.url.path, exc)
    return storage_error(exc)


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    if _is_disk_full(exc):
        return await _storage_failure(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server log only; the client learns nothing internal.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    code, message = DEFAULT_ERRORS[500]
    return error_response(500, code, message, None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Connection lost, server stopped, pool exhausted, SQLite disk full: the store is unavailable.
    for storage_exc in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                        sa_exc.TimeoutError):
        app.add_exception_handler(storage_exc, _storage_failure)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(Exception, _unexpected)
