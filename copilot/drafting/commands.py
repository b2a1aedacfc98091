"""`copilot draft`: a checked reply draft for one customer message."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from copilot.domain import Segment

EXIT_BLOCKED = 3  # same convention as `copilot check`
EXIT_BAD_INPUT = 2


def draft_command(
    segment: Annotated[Segment, typer.Option("--segment", "-s", help="客群")],
    message: Annotated[str, typer.Option("--message", "-m", help="客户消息（- 表示从标准输入读取）")],
    customer_risk: Annotated[
        str | None, typer.Option("--customer-risk", help="客户风险测评等级 C1–C5")
    ] = None,
    age_band: Annotated[str | None, typer.Option("--age-band", help="年龄段，如 60+")] = None,
    product: Annotated[list[str] | None, typer.Option("--product", help="产品代码（可多次指定）")] = None,
    writer: Annotated[
        str | None, typer.Option("--writer", help="写作方式：auto | openai | local | template（默认取配置）")
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help="one_to_one | group")] = "one_to_one",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="边生成边输出（JSON 模式下每行一个事件）")] = False,
) -> None:
    """起草一条经合规检查、带出处的回复草稿（草稿须由客户经理确认后发送）。"""
    from pydantic import ValidationError

    from copilot.domain import CustomerProfile
    from copilot.drafting import DraftingInputError, DraftingUnavailable, DraftRequest, draft_reply, stream_reply
    from copilot.drafting.events import event_json
    from copilot.drafting.personas import PromptContentError

    if message == "-":
        message = sys.stdin.read()
    try:
        req = DraftRequest(
            message=message,
            customer=CustomerProfile(
                segment=segment,
                risk_level=customer_risk,  # validated and upper-cased by CustomerProfile
                age_band=age_band,
            ),
            product_codes=list(product or []),
            channel=channel,  # type: ignore[arg-type]
        )
        if stream:
            final = _print_stream((event_json(e) for e in stream_reply(req, writer=writer)), as_json)
        else:
            final = draft_reply(req, writer=writer).model_dump(mode="json")
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        typer.echo(f"错误：输入无效（{field}）：{err['msg']}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    except (DraftingUnavailable, PromptContentError) as exc:  # configuration, not the input
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    except (DraftingInputError, ValueError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    if as_json and not stream:
        typer.echo(json.dumps(final, ensure_ascii=False, indent=2))
    elif not as_json:
        _print_draft(final)
    if final["verdict"] == "block":
        raise typer.Exit(EXIT_BLOCKED)


def _print_stream(events, as_json: bool) -> dict:
    """Print events as they come; return the final draft (as a dict)."""
    final: dict | None = None
    for event in events:
        if as_json:
            typer.echo(json.dumps(event, ensure_ascii=False))
        elif event["type"] == "token":
            sys.stderr.write(event["text"])
            sys.stderr.flush()
        elif event["type"] in ("retry", "fallback"):
            sys.stderr.write(f"\n[{'重写' if event['type'] == 'retry' else '改用模板'}] {event['reason']}\n")
        if event["type"] == "final":
            final = event["draft"]
    if not as_json:
        sys.stderr.write("\n")
    assert final is not None
    return final


def _print_draft(d: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    colour = {"pass": "green", "revise": "yellow", "block": "red"}[d["verdict"]]
    state = "可发送（须客户经理确认）" if d["sendable"] else "不可发送"
    writer = d["writer"] + (f" · {d['model']}" if d["model"] else "")
    console.print(
        Panel(
            Text(d["draft"]),
            title=escape(f"草稿 · {d['verdict']} · {state}"),
            subtitle=escape(f"写作：{writer}  用时 {d['timings'].get('total', 0):.0f} ms"),
            border_style=colour,
            title_align="left",
            subtitle_align="left",
        )
    )
    if d["fallback_reason"]:
        console.print(f"[yellow]说明[/] {escape(d['fallback_reason'])}")
    for c in d["citations"]:
        where = c["source_path"] + (f" · {c['heading']}" if c["heading"] else "")
        console.print(f"[{c['n']}] {escape(c['title'])}  [dim]{escape(where)}[/]", soft_wrap=True)
    for f in d["findings"]:
        console.print(
            f"[{colour if f['severity'] != 'warn' else 'yellow'}]{f['severity']}[/] "
            f"{escape(f['rule'])}：{escape(f['message'])}",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command("draft")(draft_command)
