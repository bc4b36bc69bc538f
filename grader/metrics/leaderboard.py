"""Trusted-side scoring of a training exercise's generated samples, for the leaderboard.

The samples come out of the sampling sandbox, so they are untrusted: `score_generated`
validates them (numpy uint8, (N, H, W) or (N, 1, H, W), N fixed by the exercise) before
computing FID (Fashion-MNIST features) and KID against the cached test-split statistics,
and a memorisation check against the training split.

Memorisation: nearest-neighbour distance in pixel space
-------------------------------------------------------
For each sample, the L2 distance (pixels in [0, 1], so at most 28 for 28x28 images) to
its nearest training image. Pixel space, not the classifier's feature space, because:
- a memorised image is a copy, perhaps with a little noise or quantisation error, and a
  copy is close in pixels whatever the network; pixel L2 is the standard test for it;
- the classifier's features are built to be invariant to within-class detail, so a new
  sneaker lies close to many training sneakers there: more false alarms, and a threshold
  that would change with the extractor's weights.
Its limit: a copy shifted by a pixel or mirrored is far in pixels and is not caught.

The threshold is calibrated on data that is genuinely new: the q-th percentile (1% by
default) of the nearest-training-image distances of the first `calibration_n` images of
the test split, so that about q of new images fall below it. The rest of the test split
is left out of the calibration, so that the tests can check the rate on held-out images.
A sample set is flagged when more than `allowed_share` (5%) of it falls below the
threshold. Thresholds are cached as NPZ beside the reference statistics, keyed by
dataset, method, q and calibration size.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from grader.metrics.features import FeatureExtractor
from grader.metrics.reference import cache_dir
from grader.metrics.score import score_samples
from reference_models.datasets import load_dataset

METHOD = "pixel-l2"
CALIBRATION_Q = 1.0  # percent of new (test) images that fall below the threshold
CALIBRATION_N = 5000  # first test images used to calibrate; the rest stay held out
ALLOWED_SHARE = 0.05  # a sample set with more memorised samples than this is flagged


@dataclass(frozen=True)
class MemorisationResult:
    share: float  # fraction of samples closer to a training image than `threshold`
    flagged: bool  # share > allowed_share
    threshold: float  # pixel L2 distance on [0, 1]
    allowed_share: float
    n: int
    distances: np.ndarray  # (N,) float32: distance of each sample to its nearest training image
    nearest: np.ndarray  # (N,) int64: index of that training image


@dataclass(frozen=True)
class GeneratedScore:
    label: str  # "FID (Fashion-MNIST features)": never plain "FID"
    fid: float
    kid: float
    kid_std: float
    n: int
    memorised_share: float
    flagged: bool  # too many samples are (near) copies of training images


@lru_cache(maxsize=2)
def _flat_unit(dataset: str, split: str) -> torch.Tensor:
    """A split's images as float32 (N, H*W) on [0, 1], kept in memory (60k x 784: 188 MB)."""
    images, _ = load_dataset(dataset, split)
    return torch.from_numpy(images.reshape(len(images), -1)).float().div_(255.0)


def nearest_distances(
    queries: np.ndarray, references: torch.Tensor | np.ndarray, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest-neighbour L2 distances of uint8 `queries` (N, ...) to `references`
    (float (M, D) on [0, 1], or uint8 images), by batched matrix products in float32:
    |q - r|^2 = |q|^2 - 2 q.r + |r|^2. Returns (distances float32 (N,), indices int64 (N,))."""
    if isinstance(references, np.ndarray):
        references = torch.from_numpy(references.reshape(len(references), -1)).float().div_(255.0)
    q = torch.from_numpy(np.ascontiguousarray(queries).reshape(len(queries), -1)).float().div_(255.0)
    r_sq = references.pow(2).sum(1)
    dist, idx = [], []
    with torch.no_grad():
        for b in q.split(batch_size):
            d2 = torch.addmm(r_sq, b, references.T, alpha=-2.0)  # |r|^2 - 2 b.r, (B, M)
            m, i = d2.min(1)
            dist.append((m + b.pow(2).sum(1)).clamp_min_(0).sqrt_())
            idx.append(i)
    return torch.cat(dist).numpy(), torch.cat(idx).numpy()


def threshold_key(dataset: str, q: float = CALIBRATION_Q, n: int = CALIBRATION_N) -> str:
    return f"{dataset}-memorisation-{METHOD}-q{q:g}-n{n}"


def memorisation_threshold(
    dataset: str = "fashion-mnist", *, q: float = CALIBRATION_Q, n: int = CALIBRATION_N, cache: Path | None = None
) -> float:
    """The q-th percentile of the first `n` test images' nearest-training-image distances,
    computed once (about 12 s on 2 cores for 5,000 vs 60,000) and cached as NPZ."""
    key = threshold_key(dataset, q, n)
    path = (cache or cache_dir()) / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return float(f["threshold"])
    test, _ = load_dataset(dataset, "test")
    if n > len(test):
        raise ValueError(f"calibration size {n} exceeds the {len(test)} test images of {dataset}")
    distances, _ = nearest_distances(test[:n], _flat_unit(dataset, "train"))
    threshold = float(np.percentile(distances, q))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, threshold=threshold, q=q, n=n, distances=distances)
    partial.replace(path)
    return threshold


def memorisation_check(
    samples_uint8: np.ndarray,
    train_images_uint8: np.ndarray | None = None,
    *,
    threshold: float | None = None,
    dataset: str = "fashion-mnist",
    allowed_share: float = ALLOWED_SHARE,
    cache: Path | None = None,
) -> MemorisationResult:
    """Share of samples whose nearest training image (pixel L2 on [0, 1]) is closer than
    `threshold` (default: calibrated on `dataset`'s test split, see the module docstring),
    and whether that share exceeds `allowed_share`. `train_images_uint8` defaults to
    `dataset`'s training split, kept in memory between calls."""
    if threshold is None:
        threshold = memorisation_threshold(dataset, cache=cache)
    train = _flat_unit(dataset, "train") if train_images_uint8 is None else train_images_uint8
    distances, nearest = nearest_distances(samples_uint8, train)
    share = float(np.mean(distances < threshold))
    flagged = share > allowed_share
    return MemorisationResult(share, flagged, threshold, allowed_share, len(distances), distances, nearest)


def validate_samples(samples: object, n_required: int, image_shape: tuple[int, int]) -> np.ndarray:
    """Untrusted samples -> uint8 (N, H, W), or a ValueError whose message is for the student."""
    if not isinstance(samples, np.ndarray):
        raise ValueError(f"samples must be a numpy array of uint8 images, got {type(samples).__name__}")
    if samples.dtype != np.uint8:
        raise ValueError(f"samples must have dtype uint8 (pixel values 0..255), got {samples.dtype}")
    h, w = image_shape
    if samples.ndim == 4 and samples.shape[1] == 1:
        samples = samples[:, 0]
    if samples.ndim != 3 or samples.shape[1:] != (h, w):
        raise ValueError(f"samples must have shape (N, {h}, {w}) or (N, 1, {h}, {w}), got {samples.shape}")
    if len(samples) != n_required:
        raise ValueError(f"expected exactly {n_required} samples, got {len(samples)}")
    return np.ascontiguousarray(samples)


def score_generated(
    samples_uint8: np.ndarray,
    *,
    dataset: str = "fashion-mnist",
    n_required: int,
    extractor: FeatureExtractor | None = None,
    cache: Path | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    allowed_share: float = ALLOWED_SHARE,
) -> GeneratedScore:
    """Validate untrusted generated samples, then FID and KID against the test split's
    cached statistics and the memorisation check against the training split."""
    train = _flat_unit(dataset, "train")
    side = int(round(train.shape[1] ** 0.5))  # the datasets here are square
    samples = validate_samples(samples_uint8, n_required, (side, side))
    s = score_samples(samples, dataset=dataset, split="test", extractor=extractor, cache=cache,
                      kid_subsets=kid_subsets, kid_subset_size=kid_subset_size)
    m = memorisation_check(samples, dataset=dataset, allowed_share=allowed_share, cache=cache)
    return GeneratedScore(s.label, s.fid, s.kid, s.kid_std, s.n, m.share, m.flagged)


def benchmark(n: int = 1000, dataset: str = "fashion-mnist") -> float:
    """Seconds for the memorisation check of `n` test images (threshold cached, training split loaded)."""
    test, _ = load_dataset(dataset, "test")
    memorisation_threshold(dataset)
    _flat_unit(dataset, "train")
    start = time.perf_counter()
    memorisation_check(test[-n:], dataset=dataset)
    return time.perf_counter() - start
