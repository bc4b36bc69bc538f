"""Reference statistics of a dataset split, cached on disk.

The cache key names the dataset, the split, the extractor and the first 16 hex
digits of its weights' SHA-256, so new weights never reuse stale statistics.
Files are NPZ (no pickle) written atomically. The cache directory is
$GRADER_METRICS_CACHE, else var/metrics/ at the repository root.
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


@dataclass(frozen=True)
class Reference:
    key: str
    stats: GaussianStats
    features: np.ndarray  # (N, D) float32, kept for KID


def cache_dir() -> Path:
    return Path(os.environ.get("GRADER_METRICS_CACHE", DEFAULT_CACHE))


def reference_key(dataset: str, split: str, extractor: FeatureExtractor) -> str:
    return f"{dataset}-{split}-{extractor.name}-{extractor.sha256[:16]}"


def reference_stats(dataset: str, split: str, extractor: FeatureExtractor, directory: Path | None = None) -> Reference:
    key = reference_key(dataset, split, extractor)
    path = (directory or cache_dir()) / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return Reference(key, GaussianStats(f["mu"], f["sigma"], int(f["n"])), f["features"])
    images, _ = load_dataset(dataset, split)
    features = extractor(images)  # (N, D) float64
    stats = GaussianStats.from_features(features)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, mu=stats.mu, sigma=stats.sigma, n=stats.n, features=features.astype(np.float32))
    partial.replace(path)
    return Reference(key, stats, features.astype(np.float32))

