"""FID and KID of generated images against a dataset split's reference statistics."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.metrics.features import FeatureExtractor, fashion_extractor
from grader.metrics.frechet import GaussianStats, frechet_distance_stats
from grader.metrics.kid import kernel_distance
from grader.metrics.reference import reference_stats


@dataclass(frozen=True)
class SampleScore:
    label: str  # e.g. "FID (Fashion-MNIST features)": never called plain "FID"
    fid: float
    kid: float  # mean unbiased MMD^2 over subsets
    kid_std: float
    n: int  # number of generated samples: FID is biased in n, so compare only equal n
    reference: str  # cache key of the reference statistics


def score_samples(
    images: np.ndarray,
    *,
    dataset: str = "fashion-mnist",
    split: str = "test",
    extractor: FeatureExtractor | None = None,
    cache: Path | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> SampleScore:
    """uint8 (N, H, W) or (N, 1, H, W) samples -> FID and KID against `dataset`'s `split`."""
    extractor = extractor or fashion_extractor()
    ref = reference_stats(dataset, split, extractor, cache)
    features = extractor(images)  # (N, D) float64
    fid = frechet_distance_stats(GaussianStats.from_features(features), ref.stats)
    s = extractor.kid_scale
    kid, kid_std = kernel_distance(features / s, ref.features / s, kid_subsets, kid_subset_size)
    return SampleScore(extractor.label, fid, kid, kid_std, len(features), ref.key)
