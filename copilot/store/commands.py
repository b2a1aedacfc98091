"""CLI for the audit trail, the review queue and the user directory: ``copilot audit|review|users …``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

audit_app = typer.Typer(help="审计留痕：校验哈希链、导出记录。", no_args_is_help=True)
review_app = typer.Typer(help="合规复核：查看被拦截或有提示的草稿与检查，导出复核结论作为训练标注。",
                         no_args_is_help=True)
users_app = typer.Typer(help="用户与访问令牌（角色：rm 客户经理 / compliance 合规 / admin 管理员）。",
                        no_args_is_help=True)

_DB_HELP = "数据库 URL（默认：设置中的 database_url，或数据目录下的 SQLite）"


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(review_app, name="review")
    app.add_typer(users_app, name="users")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


@audit_app.command("verify")
def audit_verify(
    db: str = typer.Option("", "--db", help=_DB_HELP),
    expect_head: str = typer.Option("", "--expect-head", help="之前记下的链头哈希，校验它仍在链中"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """校验审计哈希链：任何被修改、删除或重排的记录都会被指出（退出码 1）。"""
    from copilot.store import AuditStore

    result = AuditStore(db or None).verify(expected_head=expect_head or None)
    if as_json:
        typer.echo(result.model_dump_json())
    elif result.ok:
        typer.echo(f"审计链完整：共 {result.rows} 条记录，链头 #{result.head_seq} {result.head_hash}")
    else:
        typer.echo(f"审计链被破坏：第 {result.first_broken_seq} 条起异常。{result.reason}", err=True)
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("export")
def audit_export(
    fmt: str = typer.Option("jsonl", "--format", "-f", help="csv 或 jsonl"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件（- 表示标准输出）"),
    actor: str = typer.Option("", "--actor", help="只导出该用户的记录"),
    kind: str = typer.Option("", "--kind", help="只导出该类型：draft/check/schedule/action/review"),
    since: str = typer.Option("", "--since", help="起始时间（ISO 8601，UTC）"),
    db: str = typer.Option("", "--db", help=_DB_HELP),
) -> None:
    """按链顺序导出审计记录（含哈希，可离线复核）。"""
    from copilot.store import AuditError, AuditStore

    if fmt not in ("csv", "jsonl"):
        _fail(f"不支持的导出格式：{fmt}（应为 csv 或 jsonl）")
    filters = {k: v for k, v in {"actor": actor, "kind": kind, "since": since}.items() if v}
    store = AuditStore(db or None)
    try:
        if str(out) == "-":
            n = store.export(fmt, sys.stdout, **filters)  # type: ignore[arg-type]
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(out.name + ".part")
            # newline="" lets the csv module write its own line endings.
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                n = store.export(fmt, fh, **filters)  # type: ignore[arg-type]
            tmp.replace(out)  # never leave a half-written export under the real name
    except AuditError as exc:
        _fail(str(exc))
    typer.echo(f"已导出 {n} 条记录 → {out}", err=True)


REVIEWS_FILE = Path("compliance") / "reviews" / "reviews.jsonl"  # under the content root's eval/
_DECISION_NAMES = {"correct": "正确", "wrong": "有误"}


@review_app.command("list")
def review_list(
    category: str = typer.Option("", "--category", help="违规类别，如 guarantee"),
    segment: str = typer.Option("", "--segment", help="客群：credit_card/payroll/pension/branch_nearby"),
    rm: str = typer.Option("", "--rm", help="客户经理 userid"),
    undecided: bool = typer.Option(False, "--undecided", help="只看待复核的"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="条数"),
    db: str = typer.Option("", "--db", help=_DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """复核队列：被拦截、需修改或有提示的草稿与检查，新的在前，附最新复核结论。"""
    from copilot.store import AuditError, AuditStore

    try:
        items, total = AuditStore(db or None).review_queue(
            category=category or None, segment=segment or None, rm=rm or None,
            decided=False if undecided else None, limit=limit,
        )
    except AuditError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"items": [i.model_dump(mode="json") for i in items], "total": total},
                              ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("审计编号", "时间 (UTC)", "类型", "客户经理", "客群", "结论", "类别", "复核", "文本",
                  title=f"复核队列：共 {total} 条，显示 {len(items)} 条")
    for i in items:
        d = i.decision
        decided_text = f"{_DECISION_NAMES[d.decision]}（{d.reviewer}）" if d else "待复核"
        table.add_row(i.audit_id[:12], i.created_at.strftime("%Y-%m-%d %H:%M"), i.kind, i.rm,
                      i.segment or "", i.verdict or "", "、".join(i.categories), decided_text,
                      Text(i.text[:60]))  # Text(): message text is never read as rich markup
    Console().print(table)


@review_app.command("export")
def review_export(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="输出文件（默认 eval/compliance/reviews/reviews.jsonl；- 为标准输出）"
    ),
    db: str = typer.Option("", "--db", help=_DB_HELP),
) -> None:
    """把复核结论导出为标注样本（与 eval/compliance/messages.jsonl 同一格式，另加 source、note）。"""
    from copilot.config import get_settings
    from copilot.store import AuditStore

    store = AuditStore(db or None)
    target = out or get_settings().eval_dir / REVIEWS_FILE
    if str(target) == "-":
        report = store.export_reviews(sys.stdout)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        with tmp.open("w", encoding="utf-8") as fh:
            report = store.export_reviews(fh)
        tmp.replace(target)  # never leave a half-written file under the name the trainer reads
    typer.echo(f"已导出 {report.written} 条标注样本 → {target}", err=True)
    for reason, n in sorted(report.skipped.items()):
        typer.echo(f"  未导出 {n} 条：{reason}", err=True)


@users_app.command("create")
def users_create(
    name: str = typer.Option(..., "--name", help="姓名或显示名"),
    role: str = typer.Option(..., "--role", help="rm | compliance | admin"),
    userid: str = typer.Option("", "--userid", help="企业微信 userid（客户经理侧边栏登录用；默认同 --name）"),
    db: str = typer.Option("", "--db", help=_DB_HELP),
) -> None:
    """创建用户并生成访问令牌（令牌只显示这一次，数据库只保存其哈希）。"""
    from copilot.auth import AuthError, AuthStore

    try:
        user, token = AuthStore(db or None).create_user(name=name, role=role, userid=userid or None)
    except AuthError as exc:
        _fail(str(exc))
    typer.echo(f"已创建用户 {user.userid}（{user.name}，角色 {user.role}）。", err=True)
    typer.echo("访问令牌（只显示一次，请妥善保存）：", err=True)
    typer.echo(token)


@users_app.command("token")
def users_token(
    userid: str = typer.Argument(..., help="用户 ID"),
    db: str = typer.Option("", "--db", help=_DB_HELP),
) -> None:
    """为已有用户再生成一个访问令牌（只显示一次）。"""
    from copilot.auth import AuthError, AuthStore

    try:
        token = AuthStore(db or None).issue_token(userid, label="issued by CLI")
    except AuthError as exc:
        _fail(str(exc))
    typer.echo(token)


@users_app.command("disable")
def users_disable(
    userid: str = typer.Argument(..., help="用户 ID"),
    db: str = typer.Option("", "--db", help=_DB_HELP),
) -> None:
    """停用用户并吊销其全部令牌与会话。"""
    from copilot.auth import AuthError, AuthStore

    try:
        AuthStore(db or None).disable_user(userid)
    except AuthError as exc:
        _fail(str(exc))
    typer.echo(f"已停用 {userid}，其令牌与会话均已失效。")


@users_app.command("list")
def users_list(
    db: str = typer.Option("", "--db", help=_DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """列出用户（不显示令牌）。"""
    from copilot.auth import AuthStore

    people = AuthStore(db or None).list_users()
    if as_json:
        typer.echo(json.dumps([u.model_dump(mode="json") for u in people], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("用户 ID", "姓名", "角色", "创建时间 (UTC)", "状态")
    for u in people:
        table.add_row(u.userid, u.name, u.role, u.created_at.strftime("%Y-%m-%d %H:%M"),
                      "停用" if u.disabled else "启用")
    Console().print(table)
