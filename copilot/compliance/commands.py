"""``copilot check``: run the guardrail on one message from the command line.

Exit status: 0 pass or revise, 3 block, 2 bad input (empty text, unknown segment or risk level,
stdin that is not UTF-8).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_BLOCK = 3
EXIT_BAD_INPUT = 2

_SEVERITY_STYLE = {"block": "bold white on red", "revise": "black on yellow", "warn": "black on cyan"}
_VERDICT_STYLE = {"pass": "bold green", "revise": "bold yellow", "block": "bold red"}
_VERDICT_LABEL = {"pass": "通过", "revise": "需修改（已自动修改）", "block": "拦截"}


def _bad_input(message: str) -> typer.Exit:
    typer.echo(f"输入错误：{message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _read_text(text: str) -> str:
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_input(f"标准输入不是有效的 UTF-8 文本（第 {exc.start} 字节）") from exc


def _render(text: str, verdict) -> None:
    from rich.console import Console
    from rich.text import Text

    from copilot.compliance.rules import CATEGORIES

    console = Console()
    console.print(Text(f"结论：{_VERDICT_LABEL[verdict.verdict]}", style=_VERDICT_STYLE[verdict.verdict]))
    marked = Text(text)
    for f in verdict.findings:
        if f.end > f.start:
            marked.stylize(_SEVERITY_STYLE[f.severity], f.start, f.end)
    console.print(marked)
    for n, f in enumerate(verdict.findings, 1):
        head = Text(f"\n{n}. ")
        head.append(f" {f.severity} ", style=_SEVERITY_STYLE[f.severity])
        head.append(f" {f.rule}（{CATEGORIES.get(f.category, f.category)}）")
        if f.end > f.start:
            head.append(f" 第{f.start}–{f.end}字 “{f.text}”")
        console.print(head)
        console.print(Text(f"   说明：{f.message}"))
        if f.citation:
            console.print(Text(f"   依据：{f.citation}", style="dim"))
        if f.suggestion:
            console.print(Text(f"   建议：{f.suggestion}", style="green"))
    if verdict.revised is not None:
        console.print(Text("\n修改后：", style="bold"))
        console.print(Text(verdict.revised))


def check_command(
    text: Annotated[str, typer.Argument(help="待检查的消息；用 - 从标准输入读取")],
    segment: Annotated[
        str | None, typer.Option(help="客群 id（见 prompts/segments.yaml），如 pension")
    ] = None,
    customer_risk: Annotated[str | None, typer.Option("--customer-risk", help="客户风险等级 C1–C5")] = None,
    product: Annotated[list[str] | None, typer.Option("--product", help="产品代码，可重复")] = None,
    channel: Annotated[str, typer.Option(help="one_to_one|group|moments")] = "one_to_one",
    direction: Annotated[str, typer.Option(help="outbound（客户经理发出）|inbound（客户发来）")] = "outbound",
    rules: Annotated[Path | None, typer.Option("--rules", help="规则包目录（默认 guardrails/）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """合规检查：保本保收益、预期收益、存款混同、过往业绩、适当性、风险提示、个人信息等。"""
    import json

    from pydantic import ValidationError

    from copilot.compliance import check
    from copilot.domain import CUSTOMER_RISK_LEVELS, CheckContext
    from copilot.segments import SegmentsFileError, UnknownSegment, load_segments

    message = _read_text(text)
    if not message.strip():
        raise _bad_input("待检查的消息为空")
    if segment is not None:
        try:
            load_segments().require(segment)
        except (UnknownSegment, SegmentsFileError) as exc:
            raise _bad_input(str(exc)) from None
    if customer_risk is not None:
        customer_risk = customer_risk.strip().upper()
        if customer_risk not in CUSTOMER_RISK_LEVELS:
            raise _bad_input(f"客户风险等级应为 C1–C5，收到 {customer_risk!r}")
    try:
        ctx = CheckContext(
            segment=segment,
            customer_risk=customer_risk,
            product_codes=[p.strip().upper() for p in product or [] if p.strip()],
            channel=channel,
            direction=direction,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _bad_input(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}") from exc
    verdict = check(message, ctx, rules_dir=rules)
    if as_json:
        typer.echo(json.dumps(verdict.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        _render(message, verdict)
    if verdict.verdict == "block":
        raise typer.Exit(EXIT_BLOCK)


compliance_app = typer.Typer(help="合规模型：训练第二意见分类器、记录盲测批次的首次结果。", no_args_is_help=True)


@compliance_app.command("train")
def train_command(
    seed: Annotated[int, typer.Option(help="随机种子（相同文件和种子得到相同权重）")] = 20261207,
    out: Annotated[Path | None, typer.Option("--out", help="模型目录（默认 数据目录/compliance）")] = None,
) -> None:
    """用 eval/ 与 guardrails/ 中的标注训练合规第二意见分类器。"""
    from copilot.compliance.classifier import load_model
    from copilot.compliance.training import train_and_save
    from copilot.config import get_settings

    settings = get_settings()
    directory = out or settings.data_dir / "compliance"
    weights = train_and_save(settings.eval_dir, settings.guardrails_dir, directory, seed=seed)
    model = load_model(directory)
    size = weights.stat().st_size / 1e6
    typer.echo(
        f"已训练：{model.meta['sentences']} 个句子，{len(model.vocabulary)} 个特征，{size:.2f} MB，"
        f"SHA-256 {model.meta['sha256'][:16]}… → {weights}"
    )
    for c, t in model.thresholds.items():
        typer.echo(f"  {c}: 复核 ≥ {t.raise_at:.3f}，拦截 ≥ {t.block_at:.3f}，放行 < {t.clear_below:.3f}")


@compliance_app.command("cross-validate")
def cross_validate_command(
    seed: Annotated[int, typer.Option(help="随机种子")] = 20261207,
    show_misses: Annotated[bool, typer.Option("--show-misses", help="列出每折判错的消息 id")] = False,
) -> None:
    """留一批交叉验证：去掉一个已记录的盲测批次（及由它改写的句子）训练，再检查该批次。"""
    from copilot.compliance.crossval import CAVEAT, cross_validate, render
    from copilot.config import get_settings

    settings = get_settings()
    results = cross_validate(settings.eval_dir, settings.guardrails_dir, seed)
    if not results:
        raise _bad_input("没有已记录首次结果的盲测批次（eval/compliance/blind/first_seen.yaml）")
    for r in results:
        left = r.left_out_examples
        typer.echo(f"{r.batch}: 训练 {r.trained_sentences} 个句子，去掉 {left} 个来自该批次或其改写的样本")
    typer.echo(render(results))
    typer.echo(CAVEAT)
    if show_misses:
        for r in results:
            typer.echo(f"{r.batch} 判错：{', '.join(r.wrong) or '无'}")


@compliance_app.command("first-seen")
def first_seen_command(
    batch: Annotated[Path, typer.Argument(help="盲测批次文件 eval/compliance/blind/batch-NN.jsonl")],
    rules_only: Annotated[bool, typer.Option("--rules-only", help="只用规则（不用模型）")] = False,
) -> None:
    """对一个盲测批次运行一次检查，把首次结果写入 first_seen.yaml（只输出汇总，不显示消息）。"""
    from copilot.compliance.checker import check, check_rules
    from copilot.config import get_settings
    from copilot.evaluation.blind import AlreadyRecorded, record_first_seen, run_batch, score_outcomes
    from copilot.evaluation.compliance import LabelledMessage
    from copilot.evaluation.errors import EvalInputError
    from copilot.evaluation.golden import read_jsonl

    settings = get_settings()
    try:
        messages = read_jsonl(batch, LabelledMessage)
    except EvalInputError as exc:
        raise _bad_input(str(exc)) from exc
    blind_dir = batch.resolve().parent
    if rules_only:
        product, fn = "rules", (lambda t, c: check_rules(t, c, rules_dir=settings.guardrails_dir))
    else:
        product, fn = "rules+model", (lambda t, c: check(t, c, rules_dir=settings.guardrails_dir))
    scores = score_outcomes(run_batch(messages, fn))
    extra = {}
    if not rules_only:
        from copilot.compliance.classifier import load_model

        meta = load_model(settings.data_dir / "compliance").meta
        extra = {"model_sha256": meta["sha256"][:16], "model_sentences": meta["sentences"]}
    try:
        record = record_first_seen(blind_dir, batch.stem, scores, product, settings.guardrails_dir.parent, extra)
    except AlreadyRecorded as exc:
        raise _bad_input(str(exc)) from exc
    typer.echo(
        f"{batch.stem}（{product}，{record['code_commit']}）：违规召回 {scores.violation_recall:.3f}，"
        f"合规误报 {scores.fpr_compliant:.3f}，结论完全一致 {scores.exact_verdict:.3f}；"
        f"已写入 {blind_dir / 'first_seen.yaml'}，请立即提交。"
    )


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    app.add_typer(compliance_app, name="compliance")
