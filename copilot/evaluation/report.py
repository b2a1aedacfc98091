"""The evaluation report: what each suite measured, how it compares with the thresholds, and the
three files written from it (``report.json`` for machines, ``report.md`` for reviews, a
self-contained ``report.html`` with inline SVG charts for people)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from jinja2 import Environment
from markupsafe import Markup
from pydantic import BaseModel, Field

from copilot.evaluation import charts

Status = Literal["ok", "regression", "error", "bad_input"]


class Check(BaseModel):
    """One metric against one bound."""

    metric: str
    value: float | None
    min: float | None = None
    max: float | None = None
    ok: bool
    note: str = ""


class CaseFailure(BaseModel):
    """A golden case the system got wrong, kept so a reviewer can see why a metric moved."""

    id: str
    reason: str
    detail: dict = Field(default_factory=dict)


class Chart(BaseModel):
    kind: Literal["bars", "line"]
    title: str
    labels: list[str]
    series: dict[str, list[float]]
    x_label: str = ""


class SuiteResult(BaseModel):
    suite: str
    metrics: dict[str, float] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    charts: list[Chart] = Field(default_factory=list)
    failures: list[CaseFailure] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    error: str = ""
    bad_input: bool = False
    duration_s: float = 0.0

    @property
    def status(self) -> Status:
        if self.error:
            return "bad_input" if self.bad_input else "error"
        return "ok" if all(c.ok for c in self.checks) else "regression"


class Report(BaseModel):
    created_at: str = Field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))
    config: dict = Field(default_factory=dict)
    suites: list[SuiteResult] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.suites)

    @property
    def exit_code(self) -> int:
        """0 all within thresholds, 2 bad input anywhere, 1 any regression or crash."""
        if any(s.status == "bad_input" for s in self.suites):
            return 2
        return 0 if self.ok else 1


STATUS_ZH = {"ok": "通过", "regression": "退化", "error": "出错", "bad_input": "输入有误"}
FAILURES_SHOWN = 30


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _bound(c: Check) -> str:
    parts = []
    if c.min is not None:
        parts.append(f"≥ {c.min:g}")
    if c.max is not None:
        parts.append(f"≤ {c.max:g}")
    return ", ".join(parts)


def to_json(report: Report) -> str:
    data = report.model_dump()
    data["ok"] = report.ok
    data["exit_code"] = report.exit_code
    for s, suite in zip(data["suites"], report.suites, strict=True):
        s["status"] = suite.status
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_markdown(report: Report) -> str:
    lines = [
        "# 评测报告",
        "",
        f"- 时间: {report.created_at}",
        *(f"- {k}: {v}" for k, v in report.config.items()),
        f"- 结论: **{'全部通过' if report.ok else '存在退化或错误'}**",
        "",
        "| 套件 | 状态 | 用时 (s) |",
        "|---|---|---|",
        *(f"| {s.suite} | {STATUS_ZH[s.status]} | {s.duration_s:.1f} |" for s in report.suites),
    ]
    for s in report.suites:
        lines += ["", f"## {s.suite}: {STATUS_ZH[s.status]}", ""]
        if s.error:
            lines += [f"> {s.error}", ""]
        if s.counts:
            lines.append("样本: " + "，".join(f"{k} {v}" for k, v in s.counts.items()))
            lines.append("")
        checked = {c.metric: c for c in s.checks}
        lines += ["| 指标 | 值 | 阈值 | 结果 |", "|---|---|---|---|"]
        for name, value in s.metrics.items():
            c = checked.get(name)
            verdict = "" if c is None else ("✅" if c.ok else f"❌ {c.note}")
            lines.append(f"| {name} | {_fmt(value)} | {_bound(c) if c else ''} | {verdict} |")
        for c in s.checks:
            if c.metric not in s.metrics:
                lines.append(f"| {c.metric} | — | {_bound(c)} | ❌ {c.note} |")
        for note in s.notes:
            lines += ["", f"注: {note}"]
        if s.failures:
            lines += ["", f"未通过的样本（{len(s.failures)} 个，显示前 {FAILURES_SHOWN} 个）:", ""]
            lines += [f"- `{f.id}`: {f.reason}" for f in s.failures[:FAILURES_SHOWN]]
    return "\n".join(lines) + "\n"


HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>评测报告 {{ report.created_at }}</title>
<style>
body{font-family:"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:2rem auto;
max-width:1000px;padding:0 1rem;color:#111827}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #d1d5db;padding:.25rem .6rem;
text-align:left;font-size:.9rem}th{background:#f3f4f6}.ok{color:#15803d}.bad{color:#b91c1c;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #e5e7eb;background:#fff}
details{margin:.5rem 0}code{background:#f3f4f6;padding:0 .2rem}
</style></head><body>
<h1>评测报告</h1>
<p>{{ report.created_at }} ·
{% for k, v in report.config.items() %}{{ k }}: <code>{{ v }}</code> · {% endfor %}
结论: <span class="{{ 'ok' if report.ok else 'bad' }}" id="overall">
{{- '全部通过' if report.ok else '存在退化或错误' -}}</span></p>
<table><tr><th>套件</th><th>状态</th><th>用时 (s)</th></tr>
{% for s in report.suites %}<tr><td><a href="#{{ s.suite }}">{{ s.suite }}</a></td>
<td class="{{ 'ok' if s.status == 'ok' else 'bad' }}">{{ status_zh[s.status] }}</td>
<td>{{ '%.1f' % s.duration_s }}</td></tr>{% endfor %}</table>
{% for s in report.suites %}
<section id="{{ s.suite }}"><h2>{{ s.suite }} · {{ status_zh[s.status] }}</h2>
{% if s.error %}<p class="bad">{{ s.error }}</p>{% endif %}
{% if s.counts %}<p>样本: {% for k, v in s.counts.items() -%}
{{ k }} {{ v }}{% if not loop.last %}，{% endif %}{% endfor %}</p>{% endif %}
<div class="charts">{% for svg in svgs[s.suite] %}{{ svg }}{% endfor %}</div>
<table><tr><th>指标</th><th>值</th><th>阈值</th><th>结果</th></tr>
{% for name, value in s.metrics.items() %}{% set c = checked[s.suite].get(name) %}
<tr><td>{{ name }}</td><td>{{ fmt(value) }}</td><td>{{ bound(c) if c else '' }}</td>
<td>{% if c %}<span class="{{ 'ok' if c.ok else 'bad' }}">{{ '通过' if c.ok else c.note }}</span>
{%- endif %}</td></tr>
{% endfor %}
{% for c in s.checks if c.metric not in s.metrics %}
<tr><td>{{ c.metric }}</td><td>—</td><td>{{ bound(c) }}</td>
<td class="bad">{{ c.note }}</td></tr>{% endfor %}
</table>
{% for note in s.notes %}<p>注: {{ note }}</p>{% endfor %}
{% if s.failures %}<details><summary>未通过的样本（{{ s.failures|length }}）</summary><ul>
{% for f in s.failures[:shown] %}<li><code>{{ f.id }}</code> {{ f.reason }}</li>{% endfor %}
</ul></details>{% endif %}
</section>
{% endfor %}
</body></html>
"""


def _svg(chart: Chart) -> Markup:
    # The chart module escapes every label itself, so its output is safe to embed as markup.
    if chart.kind == "line":
        return Markup(charts.line_chart(chart.title, chart.labels, chart.series, chart.x_label or "k"))
    return Markup(charts.bar_chart(chart.title, chart.labels, chart.series))


def to_html(report: Report) -> str:
    env = Environment(autoescape=True)
    return env.from_string(HTML).render(
        report=report,
        svgs={s.suite: [_svg(c) for c in s.charts] for s in report.suites},
        checked={s.suite: {c.metric: c for c in s.checks} for s in report.suites},
        status_zh=STATUS_ZH,
        fmt=_fmt,
        bound=_bound,
        shown=FAILURES_SHOWN,
    )


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """Write report.json, report.md and report.html into out_dir (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": to_json(report),
        "report.md": to_markdown(report),
        "report.html": to_html(report),
    }
    paths = []
    for name, text in files.items():
        p = out_dir / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths
