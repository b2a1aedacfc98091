"""``copilot serve``: set up what is missing, then serve the API and the chat panel.

On first start it indexes the sample knowledge (when the index is empty) and, on a loopback
address with no users yet, creates a demo RM and prints its token once. The loopback-only demo
sign-in of the panel is on only when the server is bound to a loopback address (docs/api.md).
"""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="监听地址（默认 COPILOT_HOST 或 127.0.0.1）")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="端口（默认 COPILOT_PORT 或 8000）")] = None,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="索引为空时也不自动索引知识库")] = False,
    dev_login: Annotated[
        bool | None,
        typer.Option(
            "--dev-login/--no-dev-login", help="本机演示登录（仅监听 127.0.0.1 时可开启，默认开启）"
        ),
    ] = None,
) -> None:
    """启动服务：HTTP 接口（/v1，文档见 /docs）与客户经理聊天面板（/）。"""
    import uvicorn
    from rich.console import Console

    from copilot.api.app import create_app
    from copilot.api.deps import is_loopback
    from copilot.auth import AuthStore
    from copilot.config import get_settings

    console = Console(stderr=True, soft_wrap=True)
    settings = get_settings()
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    local = is_loopback(settings.host)
    if dev_login and not local:
        typer.echo(f"错误：本机演示登录只能在监听回环地址时开启（当前 {settings.host}）。", err=True)
        raise typer.Exit(2)

    if not no_ingest:
        _ingest_if_empty(settings, console)

    auth = AuthStore(settings=settings)
    if not auth.list_users():
        if local:
            _create_demo_user(auth, console)
        else:
            console.print(
                "[yellow]尚无任何用户[/]：请用 "
                "[bold]copilot users create --name … --role rm|compliance|admin[/] 创建。"
            )

    _start_model_if_chosen(settings, console)
    enable_dev = local if dev_login is None else dev_login
    app = create_app(settings, dev_login=enable_dev)
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"聊天面板：[bold]{url}/[/]    接口文档：{url}/docs")
    if enable_dev:
        console.print("本机演示登录已开启（仅接受 127.0.0.1 的直连请求；--no-dev-login 可关闭）。")
    # One process: the model queue and its limits live in it (see docs/api.md before adding workers).
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


def _ingest_if_empty(settings, console) -> None:  # type: ignore[no-untyped-def]
    from copilot.retrieval import Retriever, ingest

    if len(Retriever(settings)) > 0:
        return
    console.print("首次启动：索引为空，正在索引知识库（之后的启动会跳过这一步）…")
    report = ingest(None, settings, progress=True)
    console.print(report.summary())
    for path, message in report.failed:
        console.print(f"[red]失败[/] {path}: {message}")


def _start_model_if_chosen(settings, console) -> None:  # type: ignore[no-untyped-def]
    """Start and warm the embedded model with the service when it is the writer in use, so the
    first RM waits neither for the server start nor for the personas' prefixes to be read."""
    from copilot.drafting.local_model import start_local_model
    from copilot.drafting.writers import select_writer

    writer, _ = select_writer(None, settings)
    if writer.name == "local":
        console.print("正在后台启动并预热本地模型…")
        start_local_model(settings)


def _create_demo_user(auth, console) -> None:  # type: ignore[no-untyped-def]
    from copilot.api.session import DEMO_NAME, DEMO_USERID

    _, token = auth.create_user(DEMO_NAME, "rm", userid=DEMO_USERID, label="copilot serve demo")
    console.print(
        f"已创建本机演示账号 [bold]{DEMO_USERID}[/]（客户经理）。访问令牌只显示这一次：\n"
        f"  [bold green]{token}[/]\n"
        "面板可直接点“本机演示登录”；curl 示例见 docs/api.md。正式环境请用 copilot users create 创建用户。"
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
