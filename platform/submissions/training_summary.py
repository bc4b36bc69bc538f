"""A training result's numbers in a student's words: FID with its interval, KID ± its spread, precision,
recall, density and coverage each in one sentence, a verdict that combines them, and the class shares.

Everything returned is plain text (the templates escape it) except the chart, which
leaderboard.charts draws from numbers and escaped labels. Keys missing from older results give None
or empty lists, never an error."""
from __future__ import annotations

import math

from grader.numbers import finite_or_none
from leaderboard.charts import class_shares_svg, pct

# Thresholds of the verdict. Precision and recall are shares in [0, 1]; with k = 5 and 1,000 points a side,
# two samples of the same Gaussian score 0.66-0.88 on both (16 to 256 dimensions; coverage 0.97), so
PRECISION_HIGH = 0.6  # at least: the samples "look real"
RECALL_HIGH = 0.5  # at least: they "cover the data"
COVERAGE_LOW = 0.5  # below, with a high recall: a few outlying samples may be inflating recall
DENSITY_CROWDED = 1.5  # at least (1 for samples drawn like the data): samples bunch where the data is densest
OVER, UNDER = 2.0, 1 / 3  # a class's share at least twice, or at most a third of, the data's is named


def fid_text(fid, interval=None) -> str | None:
    """"148.2 (95 % interval 141.0–156.3)": four significant digits, at most two decimals, the interval
    at the same decimals; without a valid interval the value alone."""
    fid = finite_or_none(fid)
    if fid is None:
        return None
    decimals = 2 if fid == 0 else max(0, min(2, 3 - math.floor(math.log10(abs(fid)))))
    text = f"{fid:.{decimals}f}"
    if isinstance(interval, (list, tuple)) and len(interval) == 2:
        low, high = (finite_or_none(v) for v in interval)
        if low is not None and high is not None and low <= high:
            text += f" (95 % interval {low:.{decimals}f}–{high:.{decimals}f})"
    return text


def kid_text(kid, std=None) -> str | None:
    """"0.012 ± 0.003": the spread to one significant digit (two when it starts with 1 or 2), the value to
    the same decimals; without a spread, four decimals."""
    kid, std = finite_or_none(kid), finite_or_none(std)
    if kid is None:
        return None
    if std is None or std <= 0:
        return f"{kid:.4f}"
    exponent = math.floor(math.log10(std))
    digits = 2 if std / 10 ** exponent < 3 else 1
    decimals = max(0, min(6, digits - 1 - exponent))
    return f"{kid:.{decimals}f} ± {std:.{decimals}f}"


def metric_sentences(fidelity: dict) -> list[dict]:
    """[{"name", "value", "sentence"}] for each of precision, recall, density and coverage present."""
    p, r, d, c = (finite_or_none(fidelity.get(key)) for key in ("precision", "recall", "density", "coverage"))
    rows = []
    if p is not None:
        rows.append(("Precision", p, f"{pct(p)} of your samples lie close to some real image: that many look real."))
    if r is not None:
        rows.append(("Recall", r, f"{pct(r)} of the real images have one of your samples close by: how much of the "
                                  "data's variety your model produces."))
    if d is not None:
        rows.append(("Density", d, "how many real images each sample lies close to, where samples drawn like the "
                                   "data score 1: higher means they bunch where the data is densest, lower that "
                                   "they lie off it."))
    if c is not None:
        rows.append(("Coverage", c, f"{pct(c)} of the real images have one of your samples within their own "
                                    "neighbourhood: like recall, but not fooled by a few outlying samples."))
    return [{"name": name, "value": f"{value:.2f}", "sentence": f"{name} {value:.2f}: {text}"}
            for name, value, text in rows]


def verdict(precision, recall, density=None, coverage=None) -> dict | None:
    """{"kind", "text"}: kind "good", "mode_collapse", "spread" (blurry or noisy) or "poor", from precision
    and recall (thresholds above), with a remark on density and coverage where they add to it."""
    p, r, d, c = finite_or_none(precision), finite_or_none(recall), finite_or_none(density), finite_or_none(coverage)
    if p is None or r is None:
        return None
    real, covers = p >= PRECISION_HIGH, r >= RECALL_HIGH
    if real and covers:
        kind, text = "good", (f"Your samples look real (precision {p:.2f}) and cover {pct(r)} of the data "
                              "(recall): a good balance of quality and variety.")
    elif real:
        kind, text = "mode_collapse", (f"Your samples look real (precision {p:.2f}) but cover only {pct(r)} of the "
                                       "data (recall): typical of mode collapse, a few kinds of image made well "
                                       "and the rest left out.")
    elif covers:
        kind, text = "spread", (f"Your samples spread over {pct(r)} of the data (recall) but few look real "
                                f"(precision {p:.2f}): typical of blurry or noisy samples.")
    else:
        kind, text = "poor", (f"Few of your samples look real (precision {p:.2f}) and they cover only {pct(r)} of "
                              "the data (recall): the model has not yet learnt what the data looks like.")
    if covers and c is not None and c < COVERAGE_LOW:
        text += f" Coverage is only {c:.2f} though: a few outlying samples may be inflating recall."
    if d is not None and d >= DENSITY_CROWDED:
        text += f" Density {d:.2f}: your samples crowd into the most common kinds of image."
    return {"kind": kind, "text": text}


def class_rows(class_shares: dict) -> tuple[list[dict], float | None]:
    """[{"label", "share", "data_share", "value"}] per class (texts, the value a float) and the data's share."""
    labels, shares = class_shares.get("labels"), class_shares.get("shares")
    if not (isinstance(labels, list) and isinstance(shares, list) and 0 < len(labels) == len(shares)):
        return [], None
    values = [finite_or_none(s) for s in shares]
    if any(v is None or not 0 <= v <= 1 for v in values):
        return [], None
    data = finite_or_none(class_shares.get("data_share"))
    data = data if data is not None and 0 < data <= 1 else 1 / len(labels)
    return [{"label": str(label), "share": pct(v), "data_share": pct(data), "value": v}
            for label, v in zip(labels, values, strict=True)], data


def class_remarks(rows: list[dict], data: float | None) -> list[str]:
    """A sentence on the classes made far more often than in the data, one on those hardly made at all."""
    if not rows:
        return []
    over = [r for r in sorted(rows, key=lambda r: -r["value"]) if r["value"] >= OVER * data]
    under = [r["label"] for r in rows if r["value"] <= UNDER * data]
    remarks = []
    if over:
        remarks.append("Made more often than in the data: "
                       + ", ".join(f"{r['label']} ({r['share']} of your samples)" for r in over)
                       + f", against {pct(data)} each in the data.")
    if under:
        remarks.append(f"Hardly ever made (at most {pct(UNDER * data)} of your samples): {', '.join(under)}.")
    return remarks


def race_rows(race) -> tuple[list[dict], str | None]:
    """A race's ladder as [{"steps", "fid", "reached"}] (texts) and its target, from the block's `race`."""
    if not isinstance(race, dict) or not isinstance(race.get("rungs"), list):
        return [], None
    target = finite_or_none(race.get("target_fid"))
    rows = []
    for rung in race["rungs"][:64]:
        steps = rung.get("steps") if isinstance(rung, dict) else None
        if isinstance(steps, bool) or not isinstance(steps, int):
            return [], None
        fid = finite_or_none(rung.get("fid"))
        rows.append({"steps": steps, "fid": fid_text(fid) or "not finite",
                     "reached": fid is not None and target is not None and fid <= target})
    return rows, fid_text(target)


def training_summary(training: dict | None) -> dict:
    """What the submission page shows of a result's `training` block beyond its raw numbers."""
    t = training if isinstance(training, dict) else {}
    fidelity = t.get("fidelity") if isinstance(t.get("fidelity"), dict) else {}
    shares = t.get("class_shares") if isinstance(t.get("class_shares"), dict) else {}
    rows, data = class_rows(shares)
    boot = t.get("fid_bootstrap")
    rungs, target = race_rows(t.get("race"))
    return {
        "race": rungs,
        "race_target": target,
        "fid": fid_text(t.get("fid"), t.get("fid_interval")),
        "fid_bootstrap": boot if isinstance(boot, int) and not isinstance(boot, bool) and boot > 0 else None,
        "reference_part": t.get("reference_part") if isinstance(t.get("reference_part"), str) else None,
        "kid": kid_text(t.get("kid"), t.get("kid_std")),
        "k": fidelity.get("k") if isinstance(fidelity.get("k"), int) else None,
        "metrics": metric_sentences(fidelity),
        "verdict": verdict(*(fidelity.get(key) for key in ("precision", "recall", "density", "coverage"))),
        "classes": rows,
        "class_remarks": class_remarks(rows, data),
        "class_svg": class_shares_svg(labels=[r["label"] for r in rows], shares=[r["value"] for r in rows],
                                      data_share=data) if rows else None,
    }
