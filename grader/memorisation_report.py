"""The memorisation dict of a training result (strict JSON), drawn on the trusted side."""
from __future__ import annotations

import numpy as np

from reference_models.datasets import load_dataset

from .metrics.leaderboard import SPACES, MemorisationResult
from .numbers import finite_or_none
from .sample_grid import pairs_png


def _finite(value: float) -> float | None:
    return finite_or_none(float(value))  # numpy scalars included


def memorisation_block(m: MemorisationResult, samples: np.ndarray, dataset: str) -> dict:
    """share, flagged, allowed_share, thresholds, flagged_by_space, report (the closest memorised
    samples, with their nearest dataset image) and pairs_png (each report entry's sample beside that image)."""
    report = m.report()
    for entry in report:
        entry["distance"], entry["threshold"] = _finite(entry["distance"]), _finite(entry["threshold"])
    nearest = [load_dataset(dataset, e["nearest_split"])[0][e["nearest_index"]] for e in report]
    return {"share": m.share, "flagged": m.flagged, "allowed_share": m.allowed_share,
            "thresholds": {space: _finite(t) for space, t in m.thresholds.as_dict().items()},
            "flagged_by_space": {space: int(below.sum()) for space, below in m.below().items()},
            "spaces": list(SPACES), "report": report,
            "pairs_png": pairs_png(samples[[e["sample"] for e in report]], np.stack(nearest)) if report else ""}
