"""Reference statistics of a dataset split, or of one part of it, cached on disk.

The cache key names the dataset, the split, the part (if any), the extractor and the
first 16 hex digits of its weights' SHA-256, so new weights never reuse stale statistics.
Files are NPZ (no pickle) written atomically. The cache directory is
$GRADER_METRICS_CACHE, else var/metrics/ at the repository root.

Parts: the public leaderboard is scored against the "public" part of the split (the images
at even indices), the private board, revealed after the deadline, against the "private"
part (odd indices); part None is the whole split.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.metrics.features import FeatureExtractor
from grader.metrics.frechet import GaussianStats
from reference_models.datasets import load_dataset

DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "var" / "metrics"
PARTS = {"public": slice(0, None, 2), "private": slice(1, None, 2)}


@dataclass(frozen=True)
class Reference:
    key: str
    stats: GaussianStats
    features: np.ndarray  # (N, D) float32, kept for KID and the k-NN metrics
    part: str | None = None


def cache_dir() -> Path:
    return Path(os.environ.get("GRADER_METRICS_CACHE", DEFAULT_CACHE))


def part_indices(part: str | None) -> slice:
    """The split's images in `part`: "public" test[0::2], "private" test[1::2], None all."""
    if part is None:
        return slice(None)
    if part not in PARTS:
        raise ValueError(f"part must be one of {sorted(PARTS)} or None, got {part!r}")
    return PARTS[part]


def reference_key(dataset: str, split: str, extractor: FeatureExtractor, part: str | None = None) -> str:
    name = split if part is None else f"{split}-{part}"
    return f"{dataset}-{name}-{extractor.name}-{extractor.sha256[:16]}"


def _save(path: Path, stats: GaussianStats, features: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, mu=stats.mu, sigma=stats.sigma, n=stats.n, features=features)
    partial.replace(path)


def reference_stats(dataset: str, split: str, extractor: FeatureExtractor, directory: Path | None = None,
                    part: str | None = None) -> Reference:
    """The split's (or its part's) features and Gaussian statistics; a part is cut from the
    whole split's cached features."""
    indices = part_indices(part)
    key = reference_key(dataset, split, extractor, part)
    path = (directory or cache_dir()) / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return Reference(key, GaussianStats(f["mu"], f["sigma"], int(f["n"])), f["features"], part)
    if part is None:
        images, _ = load_dataset(dataset, split)
        features64 = extractor(images)  # (N, D) float64
        stats, features = GaussianStats.from_features(features64), features64.astype(np.float32)
    else:
        features = reference_stats(dataset, split, extractor, directory).features[indices]
        stats = GaussianStats.from_features(features)
    _save(path, stats, features)
    return Reference(key, stats, features, part)
