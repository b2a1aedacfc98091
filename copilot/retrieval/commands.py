"""`copilot ingest` and `copilot search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copilot.domain import DocType


def ingest_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="文件或目录（默认：知识库 knowledge/）")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条")] = False,
) -> None:
    """索引知识库（增量：未变的文件不重新嵌入，已删除的文件移出索引）。"""
    from rich.console import Console
    from rich.markup import escape

    from copilot.retrieval import ingest

    console = Console(stderr=True)
    report = ingest(list(paths) if paths else None, progress=not quiet)
    for path, message in report.failed:
        # escape: "[risk_level]" in a message is the field name, not rich markup; soft_wrap keeps
        # long paths on one line
        line = message if path in message else f"{path}: {message}"
        console.print(f"[red]失败[/] {escape(line)}", soft_wrap=True)
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


def search_command(
    query: Annotated[str, typer.Argument(help="问题或关键词")],
    segment: Annotated[str | None, typer.Option("--segment", "-s", help="客群 id（见 prompts/segments.yaml）")] = None,
    doc_type: Annotated[DocType | None, typer.Option("--type", "-t", help="文档类型")] = None,
    product: Annotated[str | None, typer.Option("--product", help="产品代码")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="返回条数")] = 5,
    include_expired: Annotated[bool, typer.Option("--include-expired", help="包含已过期文档")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """检索知识库，返回带出处的段落。"""
    from copilot.retrieval import Retriever
    from copilot.segments import SegmentsFileError, UnknownSegment, load_segments

    if not query.strip():
        typer.echo("错误：查询为空", err=True)
        raise typer.Exit(2)
    try:
        if segment is not None:
            load_segments().require(segment)
    except (UnknownSegment, SegmentsFileError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from None
    retriever = Retriever()
    if len(retriever) == 0:
        typer.echo("索引为空：请先运行 copilot ingest", err=True)
        raise typer.Exit(1)
    hits = retriever.search(
        query, k=k, segment=segment,
        doc_type=doc_type.value if doc_type else None, product_code=product,
        include_expired=include_expired,
    )
    if as_json:
        typer.echo(json.dumps([h.model_dump() for h in hits], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    if not hits:
        console.print("没有找到相关内容。")
    for n, h in enumerate(hits, 1):
        where = f"{h.source_path}" + (f" · {h.heading}" if h.heading else "")
        dated = " · ".join(x for x in (f"版本 {h.version}" if h.version else "", h.effective_date) if x)
        # knowledge text is data, not rich markup
        console.print(Panel(Text(h.text), title=escape(f"[{n}] {h.title}"),
                            subtitle=escape(f"{where}  {dated}  score={h.score:.4f}"),
                            title_align="left", subtitle_align="left"))


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("search")(search_command)
