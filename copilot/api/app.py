"""The FastAPI application: ``create_app(settings)`` wires the services, the ``/v1`` routers, the
error shape, the OpenAPI pages and the chat panel together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot.api import audit, check, drafts, knowledge, reviews, schedules, search, segments, session, wecom
from copilot.api.deps import Services
from copilot.api.errors import error_response, install_error_handlers
from copilot.api.gate import ModelGate
from copilot.auth import AuthStore
from copilot.config import Settings, get_settings
from copilot.segments import segments_of
from copilot.store import AuditStore

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
API_VERSION = "1.0.0"
log = logging.getLogger("copilot.api")

# The panel loads nothing from elsewhere, so the policy can be strict; it also makes any HTML that
# slipped into model text inert (no inline script can run).
PANEL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
_DOCS_PREFIXES = ("/docs", "/static-docs")


class SecurityHeaders:
    """Adds no-sniff, referrer and content-security headers to every response (pure ASGI, so
    streamed responses pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if not path.startswith(_DOCS_PREFIXES):  # Swagger UI's page needs an inline script
                    headers.append((b"content-security-policy", PANEL_CSP.encode()))
                if path.startswith("/v1/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ContentLengthLimit:
    """Refuse a declared body over the limit before anything reads it, in the common error shape.

    Starlette's body limiter (configured per router below) counts bytes as they arrive, which
    covers chunked bodies; but for a declared Content-Length it swaps whatever the app answers for
    a plain-text 413, so that case is answered here first.
    """

    def __init__(self, app: ASGIApp, default: int, overrides: dict[tuple[str, str], int]) -> None:
        self.app = app
        self.default = default
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.overrides.get((scope["method"], scope["path"].rstrip("/")), self.default)
            declared = Headers(scope=scope).get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                response = error_response(
                    413,
                    "too_large",
                    f"请求内容过大（上限 {limit // 1024} KB），请精简后重试。",
                    {"limit_bytes": limit, "declared_bytes": int(declared)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SegmentScope:
    """Validates segment ids in every request against this app's content root (its
    ``prompts/segments.yaml``), not the process-wide default one."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with segments_of(self.settings):  # worker threads inherit it (anyio copies the context)
            await self.app(scope, receive, send)


def _model_concurrency(settings: Settings) -> int:
    # The embedded model serves one request at a time (n_parallel=1); a bank's model server
    # (vLLM and the like) batches, so let a few requests through at once.
    return 4 if settings.llm_base_url else 1


def _offline_docs_dir() -> Path | None:
    """Swagger UI's files from ``fastapi-offline`` when installed, so /docs works without a CDN."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    static = Path(fastapi_offline.__file__).parent / "static"
    return static if (static / "swagger-ui-bundle.js").is_file() else None


def _install_offline_docs(app: FastAPI, static: Path) -> None:
    from fastapi.staticfiles import StaticFiles

    app.mount("/static-docs", StaticFiles(directory=static), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API 文档",
            swagger_js_url=f"{root}/static-docs/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static-docs/swagger-ui.css",
            swagger_favicon_url=f"{root}/static-docs/favicon.png",
        )


def create_app(settings: Settings | None = None, *, dev_login: bool = False) -> FastAPI:
    """Build the service. ``dev_login`` enables the loopback-only demo sign-in (docs/api.md)."""
    settings = settings or get_settings()
    services = Services(
        settings=settings,
        audit=AuditStore(settings=settings),
        auth=AuthStore(settings=settings),
        gate=ModelGate(_model_concurrency(settings), settings.model_queue_size),
        dev_login=dev_login,
    )

    docs_static = _offline_docs_dir()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="客户经理智能助手",
        summary="检索、起草、合规检查、发布排期与审计留痕的 HTTP 接口（/v1）",
        version=API_VERSION,
        docs_url=None if docs_static else "/docs",  # FastAPI's own page loads Swagger UI from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(
        ContentLengthLimit,
        default=settings.max_request_bytes,
        overrides={("POST", "/v1/knowledge"): settings.max_upload_bytes},
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SegmentScope, settings=settings)

    for module in (session, segments, drafts, check, search, schedules, knowledge, audit, reviews, wecom):
        app.include_router(module.router, prefix="/v1", max_body_size=settings.max_request_bytes)
    # Uploads get their own, larger limit.
    app.include_router(knowledge.upload_router, prefix="/v1", max_body_size=settings.max_upload_bytes)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        return {"ok": True, "model_gate": services.gate.stats()}

    if docs_static is not None:
        _install_offline_docs(app, docs_static)
    app.frontend("/", directory=WEB_DIR, fallback=None)
    return app
