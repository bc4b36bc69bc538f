"""FID and KID of generated images against a dataset split's (or part's) reference statistics;
on request the bootstrap interval of FID, precision/recall/density/coverage and the class shares."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.metrics.classes import CLASS_NAMES, class_shares, predict
from grader.metrics.features import FashionCNN, FeatureExtractor, fashion_extractor
from grader.metrics.fidelity import matched_fidelity
from grader.metrics.frechet import GaussianStats, bootstrap_fid, fid_interval, frechet_distance_stats
from grader.metrics.kid import kernel_distance
from grader.metrics.reference import cache_dir, reference_stats
from grader.numbers import finite_or_none

# What the leaderboard computes (score_generated, score_part).
FID_BOOTSTRAP = 200
FIDELITY_K = 5


@dataclass(frozen=True)
class SampleScore:
    label: str  # e.g. "FID (Fashion-MNIST features)": never called plain "FID"
    fid: float
    kid: float  # mean unbiased MMD^2 over subsets
    kid_std: float
    n: int  # number of generated samples: FID is biased in n, so compare only equal n
    reference: str  # cache key of the reference statistics
    reference_part: str | None = None  # "public", "private" or None: the whole split
    fid_interval: tuple[float, float] | None = None  # 95% bootstrap interval (see frechet.fid_interval)
    fid_bootstrap: int = 0  # number of resamples behind fid_interval
    fidelity: dict | None = None  # Fidelity.as_dict(): k, precision, recall, density, coverage
    class_shares: dict | None = None  # ClassShares.as_dict(): labels, shares, data_share

    def board(self) -> dict:
        return board_fields(self)


def board_fields(score) -> dict:
    """A SampleScore's or GeneratedScore's part-dependent scores as the result's training block has
    them: plain JSON, a non-finite number as None (the result is strict JSON)."""
    fields = {"fid": _finite(score.fid), "fid_label": score.label, "kid": _finite(score.kid),
              "kid_std": _finite(score.kid_std), "reference_part": score.reference_part}
    if score.fid_interval is not None:
        fields.update(fid_interval=[_finite(v) for v in score.fid_interval], fid_bootstrap=score.fid_bootstrap)
    if score.fidelity is not None:
        fields["fidelity"] = {k: v if k == "k" else _finite(v) for k, v in score.fidelity.items()}
    if score.class_shares is not None:
        c = score.class_shares
        fields["class_shares"] = {"labels": list(c["labels"]), "shares": [_finite(v) for v in c["shares"]],
                                  "data_share": _finite(c["data_share"])}
    return fields


def _finite(value: float) -> float | None:
    return finite_or_none(float(value))  # numpy scalars included


def score_samples(
    images: np.ndarray,
    *,
    dataset: str = "fashion-mnist",
    split: str = "test",
    part: str | None = None,
    extractor: FeatureExtractor | None = None,
    cache: Path | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    fid_bootstrap: int = 0,
    fidelity_k: int = 0,
    classes: bool = False,
    seed: int = 0,
) -> SampleScore:
    """uint8 (N, H, W) or (N, 1, H, W) samples -> FID and KID against `dataset`'s `split` (its
    `part`, see reference.py); with `fid_bootstrap` > 0 FID's bootstrap interval, with
    `fidelity_k` > 0 precision/recall/density/coverage at that k, with `classes` the class shares."""
    extractor = extractor or fashion_extractor()
    ref = reference_stats(dataset, split, extractor, cache, part)
    features = extractor(images)  # (N, D) float64
    fid = frechet_distance_stats(GaussianStats.from_features(features), ref.stats)
    s = extractor.kid_scale
    kid, kid_std = kernel_distance(features / s, ref.features / s, kid_subsets, kid_subset_size, seed)
    extra = {}
    if fid_bootstrap > 0:
        values = bootstrap_fid(features, ref.stats, fid_bootstrap, seed)
        extra.update(fid_interval=fid_interval(fid, values), fid_bootstrap=fid_bootstrap)
    if fidelity_k > 0:
        extra["fidelity"] = matched_fidelity(features, ref.features, fidelity_k, key=ref.key,
                                             cache=cache or cache_dir()).as_dict()
    if classes and dataset in CLASS_NAMES:
        if isinstance(extractor.net, FashionCNN):
            predicted = predict(extractor.net, features=features)
        else:
            predicted = predict(fashion_extractor().net, images=images)
        extra["class_shares"] = class_shares(predicted, dataset).as_dict()
    return SampleScore(extractor.label, fid, kid, kid_std, len(features), ref.key, part, **extra)
