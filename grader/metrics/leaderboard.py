"""Trusted-side scoring of a training exercise's generated samples, for the leaderboard.

The samples come out of the sampling sandbox, so they are untrusted: `score_generated`
validates them (numpy uint8, (N, H, W) or (N, 1, H, W), N fixed by the exercise) before
computing FID (Fashion-MNIST features) and KID against the cached test-split statistics,
and a memorisation check against the dataset's images.

Memorisation: nearest-neighbour distances in two pixel spaces
-------------------------------------------------------------
A sample counts as memorised when its nearest dataset image is closer than a threshold
in either of two spaces:
- plain pixels (L2, pixels in [0, 1], so at most 28 for 28x28 images): catches copies,
  also with a little noise or quantisation error;
- centred pixels: each image (and its mirror image) shifted by whole pixels so that the
  centre of mass of its foreground is in the middle, then scaled to unit L2 norm. A copy
  that was shifted without cropping, mirrored, dimmed or brightened has the same centred
  form as its original, so it is caught too.
Pixels, not the classifier's feature space: a copy is close in pixels whatever the
network, and the classifier's features are built to put a class's images close together
(more false alarms, and a threshold tied to the weights). Not caught: a copy shifted so
far that part of the garment leaves the frame, rotated, or otherwise warped.

The samples are compared with the training split and with the test split: the test
images define FID's reference statistics, and a submission could carry copies of them
in its own source (the sandboxes never see them).

The thresholds are calibrated on images that are genuinely new: for the first
`calibration_n` test images, the distances to their nearest training image in each
space; each threshold is the q/2-th percentile (q = 1% by default), so at most about q of
new images fall below either. The rest of the test split is left out of the calibration,
so that the tests can check the rate on held-out images. A sample set is flagged when
more than `allowed_share` (5%) of it is memorised. Thresholds are cached as NPZ beside
the reference statistics, keyed by dataset, method, q and calibration size.
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

METHOD = "pixel-and-centred-l2"
CALIBRATION_Q = 1.0  # percent of new (test) images that may fall below the thresholds
CALIBRATION_N = 5000  # first test images used to calibrate; the rest stay held out
ALLOWED_SHARE = 0.05  # a sample set with more memorised samples than this is flagged
FOREGROUND = 0.15  # pixels fainter than this share of an image's brightest do not move its centre: noise cannot


@dataclass(frozen=True)
class MemorisationThresholds:
    pixel: float  # L2 distance between images with pixels in [0, 1]
    centred: float  # L2 distance between centred, unit-norm images (at most sqrt(2))

    def as_dict(self) -> dict:
        return {"pixel": self.pixel, "centred": self.centred}


@dataclass(frozen=True)
class MemorisationResult:
    share: float  # fraction of samples closer to a dataset image than a threshold
    flagged: bool  # share > allowed_share
    thresholds: MemorisationThresholds
    allowed_share: float
    n: int
    pixel_distances: np.ndarray  # (N,) float32: each sample's distance to its nearest dataset image
    centred_distances: np.ndarray  # (N,) float32: the same in the centred space
    memorised: np.ndarray  # (N,) bool: below either threshold


@dataclass(frozen=True)
class GeneratedScore:
    label: str  # "FID (Fashion-MNIST features)": never plain "FID"
    fid: float
    kid: float
    kid_std: float
    n: int
    memorised_share: float
    flagged: bool  # too many samples are (near) copies of dataset images


def unit_pixels(images_uint8: np.ndarray) -> torch.Tensor:
    """uint8 images (N, ...) as float32 (N, D) on [0, 1]."""
    flat = np.ascontiguousarray(images_uint8).reshape(len(images_uint8), -1)
    return torch.from_numpy(flat).float().div_(255.0)


def _shift(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Each image of (N, H, W) moved by its own whole-pixel (dy, dx), zero-filled."""
    n, h, w = images.shape
    rows = torch.arange(h)[None, :] - dy[:, None]  # the source row of each target row
    cols = torch.arange(w)[None, :] - dx[:, None]
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    moved = images[torch.arange(n)[:, None, None], rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    return moved * inside


def centred(images_uint8: np.ndarray, *, mirror: bool = False) -> torch.Tensor:
    """The centred form of uint8 images (N, H, W), optionally mirrored left to right first:
    moved by whole pixels so that the centre of mass of the foreground lies in the middle,
    then scaled to unit L2 norm. float32 (N, H*W)."""
    x = unit_pixels(images_uint8).reshape(np.shape(images_uint8)[:3])
    if mirror:
        x = x.flip(-1)
    n, h, w = x.shape
    foreground = (x - FOREGROUND * x.amax((1, 2), keepdim=True)).clamp_min(0)  # scales with the image
    mass = foreground.sum((1, 2)).clamp_min(1e-12)
    cy = (foreground.sum(2) * torch.arange(h)).sum(1) / mass
    cx = (foreground.sum(1) * torch.arange(w)).sum(1) / mass
    # floor(v + 0.5), not round-half-to-even: a copy moved by k pixels gets exactly k less.
    dy = torch.floor((h - 1) / 2 - cy + 0.5).long()
    dx = torch.floor((w - 1) / 2 - cx + 0.5).long()
    flat = _shift(x, dy, dx).reshape(n, -1)
    return flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)


def nearest_distances(
    queries: torch.Tensor, references: torch.Tensor, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest-neighbour L2 distances of float (N, D) `queries` to float (M, D)
    `references`, by batched matrix products in float32: |q - r|^2 = |q|^2 - 2 q.r + |r|^2.
    Returns (distances float32 (N,), indices int64 (N,))."""
    r_sq = references.pow(2).sum(1)
    dist, idx = [], []
    with torch.no_grad():
        for b in queries.split(batch_size):
            d2 = torch.addmm(r_sq, b, references.T, alpha=-2.0)  # |r|^2 - 2 b.r, (B, M)
            m, i = d2.min(1)
            dist.append((m + b.pow(2).sum(1)).clamp_min_(0).sqrt_())
            idx.append(i)
    return torch.cat(dist).numpy(), torch.cat(idx).numpy()


@dataclass(frozen=True)
class ReferenceImages:
    """A set of images in both spaces of the memorisation check."""
    pixel: torch.Tensor
    centred: torch.Tensor

    @classmethod
    def of(cls, images_uint8: np.ndarray) -> ReferenceImages:
        return cls(unit_pixels(images_uint8), centred(images_uint8))


@lru_cache(maxsize=2)
def _split_references(dataset: str, split: str) -> ReferenceImages:
    """A split in both spaces, kept in memory (the training split: 2 x 188 MB)."""
    images, _ = load_dataset(dataset, split)
    return ReferenceImages.of(images)


def distances_to(samples_uint8: np.ndarray, references: ReferenceImages) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's distance to its nearest reference image: (pixel, centred), float32 (N,) each;
    in the centred space the sample and its mirror image are both tried."""
    pixel, _ = nearest_distances(unit_pixels(samples_uint8), references.pixel)
    upright, _ = nearest_distances(centred(samples_uint8), references.centred)
    mirrored, _ = nearest_distances(centred(samples_uint8, mirror=True), references.centred)
    return pixel, np.minimum(upright, mirrored)


def threshold_key(dataset: str, q: float = CALIBRATION_Q, n: int = CALIBRATION_N) -> str:
    return f"{dataset}-memorisation-{METHOD}-q{q:g}-n{n}"


def memorisation_thresholds(
    dataset: str = "fashion-mnist", *, q: float = CALIBRATION_Q, n: int = CALIBRATION_N, cache: Path | None = None
) -> MemorisationThresholds:
    """The (q/2)-th percentiles of the first `n` test images' distances to their nearest
    training image, in each space; computed once (about 15 s on 2 cores for 5,000 vs
    60,000) and cached as NPZ."""
    key = threshold_key(dataset, q, n)
    path = (cache or cache_dir()) / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return MemorisationThresholds(float(f["pixel"]), float(f["centred"]))
    test, _ = load_dataset(dataset, "test")
    if n > len(test):
        raise ValueError(f"calibration size {n} exceeds the {len(test)} test images of {dataset}")
    pixel, centred_ = distances_to(test[:n], _split_references(dataset, "train"))
    thresholds = MemorisationThresholds(float(np.percentile(pixel, q / 2)), float(np.percentile(centred_, q / 2)))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, pixel=thresholds.pixel, centred=thresholds.centred, q=q, n=n,
             pixel_distances=pixel, centred_distances=centred_)
    partial.replace(path)
    return thresholds


def memorisation_check(
    samples_uint8: np.ndarray,
    reference_images_uint8: np.ndarray | None = None,
    *,
    thresholds: MemorisationThresholds | None = None,
    dataset: str = "fashion-mnist",
    allowed_share: float = ALLOWED_SHARE,
    cache: Path | None = None,
) -> MemorisationResult:
    """Share of samples closer to a reference image than a threshold in either space (see
    the module docstring), and whether that share exceeds `allowed_share`. The references
    default to `dataset`'s training and test splits, kept in memory between calls; the
    thresholds, to those calibrated on `dataset`."""
    if thresholds is None:
        thresholds = memorisation_thresholds(dataset, cache=cache)
    if reference_images_uint8 is None:
        reference_sets = [_split_references(dataset, "train"), _split_references(dataset, "test")]
    else:
        reference_sets = [ReferenceImages.of(reference_images_uint8)]
    pixel, centred_ = np.min([distances_to(samples_uint8, references) for references in reference_sets], axis=0)
    memorised = (pixel < thresholds.pixel) | (centred_ < thresholds.centred)
    share = float(np.mean(memorised))
    return MemorisationResult(share, share > allowed_share, thresholds, allowed_share, len(memorised),
                              pixel, centred_, memorised)


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
    side = int(round(_split_references(dataset, "train").pixel.shape[1] ** 0.5))  # the datasets here are square
    samples = validate_samples(samples_uint8, n_required, (side, side))
    s = score_samples(samples, dataset=dataset, split="test", extractor=extractor, cache=cache,
                      kid_subsets=kid_subsets, kid_subset_size=kid_subset_size)
    m = memorisation_check(samples, dataset=dataset, allowed_share=allowed_share, cache=cache)
    return GeneratedScore(s.label, s.fid, s.kid, s.kid_std, s.n, m.share, m.flagged)


def benchmark(n: int = 1000, dataset: str = "fashion-mnist") -> float:
    """Seconds for the memorisation check of `n` test images (thresholds cached, both splits loaded)."""
    test, _ = load_dataset(dataset, "test")
    memorisation_thresholds(dataset)
    _split_references(dataset, "train"), _split_references(dataset, "test")
    start = time.perf_counter()
    memorisation_check(test[-n:], dataset=dataset)
    return time.perf_counter() - start
