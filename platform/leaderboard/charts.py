"""The loss curve and the class shares of a training result as inline SVG, drawn on the server: no
JavaScript library, nothing from a CDN, no style attributes (the CSP allows the site's own stylesheet
only). Only numbers and escaped series and class names reach the markup."""
from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grader.numbers import finite_or_none

COLOURS = ("#4f46e5", "#db2777", "#059669", "#d97706", "#0891b2", "#7c3aed")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 34  # margins around the plot area


def _series(loss: dict) -> tuple[list[float], list[tuple[str, list[float | None]]]]:
    """The steps and each logged series of the same length; non-numbers and non-finite values become gaps."""
    steps = loss.get("step")
    if not isinstance(steps, list) or not steps:
        return [], []

    xs = [finite_or_none(s) for s in steps]
    series = [(str(name), [finite_or_none(v) for v in values]) for name, values in loss.items()
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


BAR_LEFT, BAR_RIGHT, BAR_TOP, BAR_BOTTOM, BAR_ROW = 120, 56, 26, 24, 22  # margins and the height of a class's row


def pct(fraction: float) -> str:
    """0.34 -> "34 %"; below 1 % one decimal: 0.004 -> "0.4 %"."""
    value = 100 * fraction
    return f"{value:.1f} %" if 0 < abs(value) < 1 else f"{value:.0f} %"


def class_shares_svg(*, labels: list, shares: list, data_share: float | None = None) -> SafeString | None:
    """Horizontal bars: the share of the samples that the classifier assigns to each class, with a dashed
    line at the data's share (a tenth for 10 balanced classes). Bars well above it (at least 1.5 times)
    get the class `over`, well below it (at most half) `under`. None unless labels and shares match."""
    if not (isinstance(labels, list) and isinstance(shares, list) and 0 < len(labels) == len(shares) <= 50):
        return None
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) and 0 <= s <= 1
               for s in shares):
        return None
    ok = isinstance(data_share, (int, float)) and not isinstance(data_share, bool) and 0 < data_share <= 1
    data = float(data_share) if ok else 1 / len(labels)
    x_max = max(0.1, min(1.0, math.ceil(10 * max(*shares, data) - 1e-9) / 10))
    plot_w, plot_h = WIDTH - BAR_LEFT - BAR_RIGHT, BAR_ROW * len(labels)
    height = BAR_TOP + plot_h + BAR_BOTTOM

    def px(v: float) -> float:
        return BAR_LEFT + v / x_max * plot_w

    title = f"Share of your samples the classifier assigns to each class, against the data's {pct(data)}"
    parts = [f'<svg class="class-shares" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>",
             f'<rect x="{BAR_LEFT}" y="{BAR_TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>']
    for tick in (0, x_max / 2, x_max):
        parts.append(f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{BAR_TOP}" y2="{BAR_TOP + plot_h}" '
                     f'class="grid"/><text x="{px(tick):.1f}" y="{height - 8}" text-anchor="middle">'
                     f"{pct(tick)}</text>")
    parts.append(f'<line x1="{px(data):.1f}" x2="{px(data):.1f}" y1="{BAR_TOP - 6}" y2="{BAR_TOP + plot_h}" '
                 f'class="data-line"/><text x="{px(data):.1f}" y="{BAR_TOP - 10}" text-anchor="middle" '
                 f'class="data-label">data {pct(data)}</text>')  # under the bars and their values
    for index, (label, share) in enumerate(zip(labels, shares, strict=True)):
        y, name = BAR_TOP + index * BAR_ROW, escape(str(label)[:24])
        kind = " over" if share >= 1.5 * data else " under" if share <= 0.5 * data else ""
        parts.append(f'<text x="{BAR_LEFT - 6}" y="{y + 15}" text-anchor="end">{name}</text>'
                     f'<rect x="{BAR_LEFT}" y="{y + 4}" width="{px(share) - BAR_LEFT:.1f}" height="{BAR_ROW - 8}" '
                     f'class="bar{kind}"><title>{name}: {pct(share)}</title></rect>'
                     f'<text x="{px(share) + 4:.1f}" y="{y + 15}" class="value">{pct(share)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # numbers and escaped labels only
