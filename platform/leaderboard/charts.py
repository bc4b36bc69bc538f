"""The loss curve of a training result as inline SVG, drawn on the server: no JavaScript library,
nothing from a CDN. Only numbers and escaped series names reach the markup."""
from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#4f46e5", "#db2777", "#059669", "#d97706", "#0891b2", "#7c3aed")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 34  # margins around the plot area


def _series(loss: dict) -> tuple[list[float], list[tuple[str, list[float | None]]]]:
    """The steps and each logged series of the same length; non-numbers and non-finite values become gaps."""
    steps = loss.get("step")
    if not isinstance(steps, list) or not steps:
        return [], []

    def number(v) -> float | None:
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None

    xs = [number(s) for s in steps]
    series = [(str(name), [number(v) for v in values]) for name, values in loss.items()
              if name != "step" and isinstance(values, list) and len(values) == len(steps)]
    return xs, [(name, values) for name, values in series if any(v is not None for v in values)][:len(COLOURS)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def loss_curve_svg(*, loss: dict) -> SafeString | None:
    """One polyline per logged value (`loss`, or e.g. `d_loss` and `g_loss`) against `step`; None
    when nothing was logged."""
    xs, series = _series(loss if isinstance(loss, dict) else {})
    known_x = [x for x in xs if x is not None]
    values = [v for _, vs in series for v in vs if v is not None]
    if not series or not known_x:
        return None
    x0, x1 = min(known_x), max(known_x)
    y0, y1 = min(values), max(values)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (y1 - y) / (y1 - y0) * plot_h

    parts = [f'<svg class="loss-curve" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="Training loss against step: {escape(", ".join(n for n, _ in series))}">',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>']
    for frac in (0, 0.5, 1):  # horizontal grid lines with their values
        y = y0 + frac * (y1 - y0)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 14}" text-anchor="start">{_fmt(x0)}</text>'
                 f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 14}" text-anchor="end">{_fmt(x1)}</text>'
                 f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle">step</text>')
    for index, (name, ys) in enumerate(series):
        colour = COLOURS[index]
        runs: list[list[str]] = [[]]  # a gap (a non-finite value) breaks the line
        for x, y in zip(xs, ys, strict=True):
            if x is None or y is None:
                runs.append([])
            else:
                runs[-1].append(f"{px(x):.1f},{py(y):.1f}")
        parts += [f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>'
                  for points in runs if points]
        parts.append(f'<text x="{LEFT + 8 + 110 * index}" y="{HEIGHT - 2}" fill="{colour}" class="legend">'
                     f'■ {escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # numbers and escaped names only
