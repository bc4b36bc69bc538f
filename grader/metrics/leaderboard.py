"""Trusted-side scoring of a training exercise's generated samples, for the leaderboard.

The samples come out of the sampling sandbox, so they are untrusted: `score_generated`
validates them (numpy uint8, (N, H, W) or (N, 1, H, W), N fixed by the exercise) before
computing FID (Fashion-MNIST features) and KID against the cached test-split statistics,
and a memorisation check against the dataset's images.

Memorisation: nearest-neighbour distances in four spaces
--------------------------------------------------------
A sample counts as memorised when its nearest dataset image is closer than a threshold
in any of four spaces:
- plain pixels (L2, pixels in [0, 1], so at most 28 for 28x28 images): copies, also with
  a little noise or quantisation error;
- centred pixels: each image (and its mirror image) shifted by whole pixels so that the
  centre of mass of its foreground is in the middle, then scaled to unit L2 norm: copies
  shifted without cropping, mirrored, dimmed or brightened;
- the classifier's features (feature_space.py), scaled to unit norm: cosine distance, as
  in MiFID (Bai et al. 2021) and the authenticity test of Alaa et al. 2022: noisy copies;
- tangent distance (tangent.py; Simard et al. 1993) to the CANDIDATES nearest references
  in the feature and the centred space: the residual once a smooth warp, brightness and
  contrast are fitted. Catches copies warped by about half a pixel, rotated by a few
  degrees or shifted with cropping. Larger warps (1-2 px, 10 degrees) mostly escape.

The samples are compared with the training split and with the test split: the test
images define FID's reference statistics, and a submission could carry copies of them
in its own source (the sandboxes never see them).

The thresholds are calibrated on images that are genuinely new: for the first
`calibration_n` test images, the distances to their nearest training image in each
space; each threshold is the q/4-th percentile (q = 1% by default), so at most about q of
new images fall below any. The rest of the test split is left out of the calibration,
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

from grader.metrics.feature_space import split_features, unit_features
from grader.metrics.features import FeatureExtractor
from grader.metrics.reference import cache_dir
from grader.metrics.score import FID_BOOTSTRAP, FIDELITY_K, score_samples
from grader.metrics.tangent import tangent_distances
from reference_models.datasets import load_dataset

METHOD = "pixel-centred-features-tangent"
SPACES = ("pixel", "centred", "features", "tangent")  # each calibrated at CALIBRATION_Q / 4 percent
CANDIDATES = 4  # per reference set, nearest in features and in centred pixels: the tangent space's candidates
REPORT_N = 12  # memorised samples named in the report, closest (relative to the threshold) first
CALIBRATION_Q = 1.0  # percent of new (test) images that may fall below the thresholds
CALIBRATION_N = 5000  # first test images used to calibrate; the rest stay held out
ALLOWED_SHARE = 0.05  # a sample set with more memorised samples than this is flagged
FOREGROUND = 0.15  # pixels fainter than this share of an image's brightest do not move its centre: noise cannot


@dataclass(frozen=True)
class MemorisationThresholds:
    pixel: float  # L2 distance between images with pixels in [0, 1]
    centred: float  # L2 distance between centred, unit-norm images (at most sqrt(2))
    features: float  # L2 distance between unit classifier features: cosine distance (at most 2)
    tangent: float  # tangent distance between blurred, standardised images (tangent.py; at most 2)

    def as_dict(self) -> dict:
        return {space: getattr(self, space) for space in SPACES}


@dataclass(frozen=True)
class MemorisationResult:
    share: float  # fraction of samples closer to a dataset image than a threshold
    flagged: bool  # share > allowed_share
    thresholds: MemorisationThresholds
    allowed_share: float
    n: int
    distances: dict  # space -> (N,) float32: each sample's distance to its nearest dataset image in that space
    nearest_split: dict  # space -> (N,) str: the split of that image ("train", "test"; "reference" if given)
    nearest_index: dict  # space -> (N,) int64: its index in the split
    memorised: np.ndarray  # (N,) bool: below the threshold of any space

    @property
    def pixel_distances(self) -> np.ndarray:
        return self.distances["pixel"]

    @property
    def centred_distances(self) -> np.ndarray:
        return self.distances["centred"]

    def below(self) -> dict:
        """space -> (N,) bool: below that space's threshold."""
        return {space: self.distances[space] < getattr(self.thresholds, space) for space in SPACES}

    def report(self, k: int = REPORT_N) -> list[dict]:
        """The k memorised samples closest to a dataset image relative to the threshold, each
        with the space where it is relatively closest (strict-JSON values)."""
        ratio = np.stack([self.distances[sp] / max(getattr(self.thresholds, sp), 1e-12) for sp in SPACES])  # (S, N)
        space = ratio.argmin(0)
        best = ratio[space, np.arange(self.n)]
        order = [i for i in np.argsort(best, kind="stable") if self.memorised[i]][:k]
        return [{"sample": int(i), "space": SPACES[space[i]], "distance": float(self.distances[SPACES[space[i]]][i]),
                 "threshold": float(getattr(self.thresholds, SPACES[space[i]])),
                 "nearest_split": str(self.nearest_split[SPACES[space[i]]][i]),
                 "nearest_index": int(self.nearest_index[SPACES[space[i]]][i])} for i in order]


@dataclass(frozen=True)
class GeneratedScore:
    label: str  # "FID (Fashion-MNIST features)": never plain "FID"
    fid: float
    kid: float
    kid_std: float
    n: int
    memorised_share: float
    flagged: bool  # too many samples are (near) copies of dataset images
    # Against the reference part (score.SampleScore has the same fields; score.board_fields reads them):
    reference_part: str | None = None  # "public", "private" or None (the whole test split)
    fid_interval: tuple[float, float] | None = None  # 95% bootstrap interval of FID
    fid_bootstrap: int = 0  # resamples behind fid_interval
    fidelity: dict | None = None  # k, precision, recall, density, coverage (fidelity.py)
    class_shares: dict | None = None  # labels, shares, data_share (classes.py)
    memorisation: MemorisationResult | None = None  # the memorisation check in full (per-space distances)


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


def _top_k(queries: torch.Tensor, references: torch.Tensor, k: int, batch_size: int = 500) -> np.ndarray:
    """Indices (N, k) of the k nearest unit-norm `references` of unit-norm `queries` (largest dot products)."""
    with torch.no_grad():
        return torch.cat([(b @ references.T).topk(k, dim=1).indices for b in queries.split(batch_size)]).numpy()


@dataclass(frozen=True)
class ReferenceImages:
    """A set of images in the spaces of the memorisation check."""
    images: np.ndarray  # uint8 (M, H, W), for the tangent distance
    pixel: torch.Tensor
    centred: torch.Tensor
    features: torch.Tensor  # unit classifier features (M, 128)

    @classmethod
    def of(cls, images_uint8: np.ndarray, features: torch.Tensor | None = None) -> ReferenceImages:
        images = np.ascontiguousarray(images_uint8)
        features = unit_features(images) if features is None else features
        return cls(images, unit_pixels(images), centred(images), features)


@lru_cache(maxsize=2)
def _split_references(dataset: str, split: str) -> ReferenceImages:
    """A split in every space, kept in memory (the training split: about 450 MB); features cached on disk."""
    images, _ = load_dataset(dataset, split)
    return ReferenceImages.of(images, split_features(dataset, split))


def distances_to(samples_uint8: np.ndarray, references: ReferenceImages,
                 sample_features: torch.Tensor | None = None) -> dict:
    """space -> (distances float32 (N,), indices int64 (N,)) of each sample's nearest reference image.
    Centred: the sample and its mirror image are both tried. Tangent: over the CANDIDATES nearest
    references in the feature and in the centred space."""
    samples = np.ascontiguousarray(samples_uint8)
    features = unit_features(samples) if sample_features is None else sample_features
    upright = centred(samples)
    (cu, iu), (cm, im) = (nearest_distances(c, references.centred) for c in (upright, centred(samples, mirror=True)))
    candidates = np.concatenate([_top_k(features, references.features, CANDIDATES),
                                 _top_k(upright, references.centred, CANDIDATES)], axis=1)
    return {"pixel": nearest_distances(unit_pixels(samples), references.pixel),
            "centred": (np.minimum(cu, cm), np.where(cu <= cm, iu, im)),
            "features": nearest_distances(features, references.features),
            "tangent": tangent_distances(samples, references.images, candidates)}


def threshold_key(dataset: str, q: float = CALIBRATION_Q, n: int = CALIBRATION_N) -> str:
    return f"{dataset}-memorisation-{METHOD}-q{q:g}-n{n}"


def memorisation_thresholds(
    dataset: str = "fashion-mnist", *, q: float = CALIBRATION_Q, n: int = CALIBRATION_N, cache: Path | None = None
) -> MemorisationThresholds:
    """The (q/4)-th percentiles of the first `n` test images' distances to their nearest
    training image, in each of the four spaces (so at most about q percent of new images fall
    below any); computed once (about a minute on 2 cores for 5,000 vs 60,000) and cached as NPZ."""
    key = threshold_key(dataset, q, n)
    path = (cache or cache_dir()) / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return MemorisationThresholds(*(float(f[space]) for space in SPACES))
    test, _ = load_dataset(dataset, "test")
    if n > len(test):
        raise ValueError(f"calibration size {n} exceeds the {len(test)} test images of {dataset}")
    found = distances_to(test[:n], _split_references(dataset, "train"))
    thresholds = MemorisationThresholds(*(float(np.percentile(found[sp][0], q / len(SPACES))) for sp in SPACES))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, q=q, n=n, **thresholds.as_dict(), **{f"{sp}_distances": found[sp][0] for sp in SPACES})
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
    splits: tuple[str, ...] = ("train", "test"),
) -> MemorisationResult:
    """Share of samples closer to a reference image than a threshold in any space (see the
    module docstring), and whether that share exceeds `allowed_share`. The references default
    to `dataset`'s training and test splits, kept in memory between calls; the thresholds, to
    those calibrated on `dataset`; `splits` chooses which splits are the default references."""
    if thresholds is None:
        thresholds = memorisation_thresholds(dataset, cache=cache)
    if reference_images_uint8 is None:
        names, sets = list(splits), [_split_references(dataset, split) for split in splits]
    else:
        names, sets = ["reference"], [ReferenceImages.of(reference_images_uint8)]
    samples = np.ascontiguousarray(samples_uint8)
    features = unit_features(samples)
    found = [distances_to(samples, references, features) for references in sets]
    rows = np.arange(len(samples))
    distances, split, index = {}, {}, {}
    for space in SPACES:
        d = np.stack([f[space][0] for f in found])
        best = d.argmin(0)
        distances[space] = d[best, rows]
        index[space] = np.stack([f[space][1] for f in found])[best, rows].astype(np.int64)
        split[space] = np.array(names)[best]
    memorised = np.any([distances[sp] < getattr(thresholds, sp) for sp in SPACES], axis=0)
    share = float(np.mean(memorised))
    return MemorisationResult(share, share > allowed_share, thresholds, allowed_share, len(memorised),
                              distances, split, index, memorised)


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
    part: str | None = "public",
) -> GeneratedScore:
    """Validate untrusted generated samples, then FID (with its bootstrap interval), KID,
    precision/recall/density/coverage and the class shares against the `part` of the test split
    (reference.py), and the memorisation check against the training and test splits."""
    side = int(round(_split_references(dataset, "train").pixel.shape[1] ** 0.5))  # the datasets here are square
    samples = validate_samples(samples_uint8, n_required, (side, side))
    s = score_samples(samples, dataset=dataset, split="test", part=part, extractor=extractor, cache=cache,
                      kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, fid_bootstrap=FID_BOOTSTRAP,
                      fidelity_k=FIDELITY_K, classes=True)
    m = memorisation_check(samples, dataset=dataset, allowed_share=allowed_share, cache=cache)
    return GeneratedScore(s.label, s.fid, s.kid, s.kid_std, s.n, m.share, m.flagged, s.reference_part,
                          s.fid_interval, s.fid_bootstrap, s.fidelity, s.class_shares, memorisation=m)


def score_part(
    samples_uint8: np.ndarray,
    part: str | None = "private",
    *,
    dataset: str = "fashion-mnist",
    n_required: int | None = None,
    extractor: FeatureExtractor | None = None,
    cache: Path | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict:
    """Validate untrusted samples and score them against `part` of the test split as
    `score_generated` does, without the memorisation check (it does not depend on the part):
    the training block's keys fid, fid_label, kid, kid_std, fid_interval, fid_bootstrap,
    reference_part, fidelity and class_shares. `n_required` defaults to the number given."""
    n = n_required if n_required is not None else len(samples_uint8) if isinstance(samples_uint8, np.ndarray) else 0
    samples = validate_samples(samples_uint8, n, load_dataset(dataset, "test")[0].shape[1:])
    return score_samples(samples, dataset=dataset, split="test", part=part, extractor=extractor, cache=cache,
                         kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, fid_bootstrap=FID_BOOTSTRAP,
                         fidelity_k=FIDELITY_K, classes=True).board()


def benchmark(n: int = 1000, dataset: str = "fashion-mnist") -> float:
    """Seconds for the memorisation check of `n` test images (thresholds cached, both splits loaded)."""
    test, _ = load_dataset(dataset, "test")
    memorisation_thresholds(dataset)
    _split_references(dataset, "train"), _split_references(dataset, "test")
    start = time.perf_counter()
    memorisation_check(test[-n:], dataset=dataset)
    return time.perf_counter() - start
