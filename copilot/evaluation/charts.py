"""Inline SVG charts for the HTML report: no scripts, fonts or files from outside the page.

Values are shares in [0, 1]; each bar or point carries a ``<title>`` so a browser shows the exact
figure on hover.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2")
FONT = "font-family='PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif'"


def _clamp(v: float) -> float:
    return max(0.0, min(1.0, v))


def _legend(series: list[str], x: float, y: float) -> list[str]:
    parts: list[str] = []
    for i, name in enumerate(series):
        lx = x + i * 120
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f"<rect x='{lx}' y='{y - 10}' width='12' height='12' fill='{colour}'/>")
        parts.append(f"<text x='{lx + 16}' y='{y}' font-size='12' {FONT}>{escape(name)}</text>")
    return parts



def _svg_open(title: str, width: float, height: float, names: list[str], legend_x: float) -> list[str]:
    """The opening of a chart: the svg element, its accessible title, the heading and the legend."""
    return [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' class='chart' width='{width}' "
        f"height='{height}' viewBox='0 0 {width} {height}'>",
        f"<title>{escape(title)}</title>",
        f"<text x='8' y='18' font-size='14' font-weight='bold' {FONT}>{escape(title)}</text>",
        *_legend(names, legend_x, 36),
    ]

def bar_chart(title: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """Horizontal grouped bars: one row per label, one bar per series (e.g. precision and recall)."""
    names = list(series)
    label_w, plot_w, bar_h, gap = 170, 420, 12, 10
    row_h = bar_h * max(1, len(names)) + gap
    top = 48
    height = top + row_h * max(1, len(labels)) + 30
    width = label_w + plot_w + 60
    parts = _svg_open(title, width, height, names, label_w)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx = label_w + tick * plot_w
        parts.append(
            f"<line x1='{tx}' y1='{top - 4}' x2='{tx}' y2='{height - 26}' stroke='#e5e7eb' stroke-width='1'/>"
        )
        parts.append(
            f"<text x='{tx}' y='{height - 10}' font-size='10' text-anchor='middle' {FONT}>{tick:.2f}</text>"
        )
    for r, label in enumerate(labels):
        y0 = top + r * row_h
        parts.append(
            f"<text x='{label_w - 6}' y='{y0 + row_h / 2}' font-size='12' text-anchor='end' "
            f"dominant-baseline='middle' {FONT}>{escape(label)}</text>"
        )
        for s, name in enumerate(names):
            value = series[name][r]
            w = _clamp(value) * plot_w
            y = y0 + s * bar_h
            colour = PALETTE[s % len(PALETTE)]
            parts.append(
                f"<rect class='bar' x='{label_w}' y='{y}' width='{w:.1f}' height='{bar_h - 2}' "
                f"fill='{colour}'><title>{escape(label)} {escape(name)}: {value:.3f}</title></rect>"
            )
            parts.append(
                f"<text x='{label_w + w + 4:.1f}' y='{y + bar_h - 3}' font-size='10' {FONT}>"
                f"{value:.2f}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, xs: list[str], series: dict[str, list[float]], x_label: str = "k") -> str:
    """Lines over a shared x axis (e.g. recall at k = 1..10, one line per question set)."""
    names = list(series)
    left, top, plot_w, plot_h = 50, 48, 460, 220
    width, height = left + plot_w + 30, top + plot_h + 46
    step = plot_w / max(1, len(xs) - 1)
    parts = _svg_open(title, width, height, names, left)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        ty = top + (1 - tick) * plot_h
        parts.append(
            f"<line x1='{left}' y1='{ty}' x2='{left + plot_w}' y2='{ty}' stroke='#e5e7eb' stroke-width='1'/>"
        )
        parts.append(
            f"<text x='{left - 6}' y='{ty + 4}' font-size='10' text-anchor='end' {FONT}>{tick:.2f}</text>"
        )
    for i, x in enumerate(xs):
        parts.append(
            f"<text x='{left + i * step:.1f}' y='{top + plot_h + 16}' font-size='10' text-anchor='middle' "
            f"{FONT}>{escape(x)}</text>"
        )
    parts.append(
        f"<text x='{left + plot_w / 2}' y='{height - 6}' font-size='11' text-anchor='middle' "
        f"{FONT}>{escape(x_label)}</text>"
    )
    for s, name in enumerate(names):
        colour = PALETTE[s % len(PALETTE)]
        pts = [(left + i * step, top + (1 - _clamp(v)) * plot_h) for i, v in enumerate(series[name])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(
            f"<polyline class='line' points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>"
        )
        for (x, y), v, xl in zip(pts, series[name], xs, strict=False):
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'>"
                f"<title>{escape(name)} {escape(x_label)}={escape(xl)}: {v:.3f}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
