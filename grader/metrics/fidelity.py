"""Precision, recall, density and coverage of generated samples, from k-NN balls in feature space.

Each point's ball has as radius the distance to its k-th nearest neighbour within its own set.
- precision, recall: Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
  Recall Metric for Assessing Generative Models", NeurIPS 2019. Precision is the share of
  samples inside the union of the reference balls, recall the share of reference points
  inside the union of the sample balls;
- density, coverage: Naeem, Oh, Uh, Choi & Yoo, "Reliable Fidelity and Diversity Metrics for
  Generative Models", ICML 2020. Density counts, per sample, the reference balls that contain
  it (divided by k, averaged; 1 in expectation for identical distributions, unbounded above);
  coverage is the share of reference points whose ball contains at least one sample.

All four depend on the sizes of the two sets (coverage of identical distributions is
1 - C(N-1, k) / C(N+M-1, k): 0.969 for M = N, 0.598 for 1,000 samples vs 5,000 references),
so `matched_fidelity` compares the M samples with reference chunks of M points each and
averages over the chunks. Distances are exact, by batched float64 matrix products.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.metrics.frechet import GaussianStats, bootstrap_fid

K = 5
BATCH = 1000  # rows of a distance matrix at a time: 1000 x 5000 float64 = 40 MB

_radii_memory: dict[str, np.ndarray] = {}


@dataclass(frozen=True)
class Fidelity:
    k: int
    precision: float
    recall: float
    density: float
    coverage: float

    def as_dict(self) -> dict:
        return {"k": self.k, "precision": self.precision, "recall": self.recall, "density": self.density,
                "coverage": self.coverage}


def _as_float64(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"need (N, D) features, got shape {x.shape}")
    return x


def squared_distances(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray | None = None) -> np.ndarray:
    """(len(a), len(b)) squared L2 distances, |a|^2 - 2 a.b + |b|^2, clipped at 0."""
    b_sq = (b * b).sum(1) if b_sq is None else b_sq
    d2 = (a * a).sum(1)[:, None] - 2.0 * (a @ b.T) + b_sq[None, :]
    return np.maximum(d2, 0.0, out=d2)


def knn_radii(x: np.ndarray, k: int = K) -> np.ndarray:
    """Squared distance of each point of x (N, D) to its k-th nearest other point (N,)."""
    x = _as_float64(x)
    if len(x) <= k:
        raise ValueError(f"need more than k = {k} points, got {len(x)}")
    x_sq = (x * x).sum(1)
    # Index k of the sorted row skips the point itself (distance 0, index 0).
    return np.concatenate([np.partition(squared_distances(x[i:i + BATCH], x, x_sq), k, axis=1)[:, k]
                           for i in range(0, len(x), BATCH)])


def fidelity(samples: np.ndarray, reference: np.ndarray, k: int = K, *, reference_radii: np.ndarray | None = None,
             sample_radii: np.ndarray | None = None) -> Fidelity:
    """Precision, recall, density and coverage of sample features (M, D) against reference
    features (N, D); radii are squared k-NN distances, computed when not given."""
    fake, real = _as_float64(samples), _as_float64(reference)
    r_real = knn_radii(real, k) if reference_radii is None else reference_radii
    r_fake = knn_radii(fake, k) if sample_radii is None else sample_radii
    real_sq = (real * real).sum(1)
    in_real = 0  # samples inside at least one reference ball
    balls = 0  # (sample, reference ball containing it) pairs
    recalled = np.zeros(len(real), bool)  # reference points inside at least one sample ball
    nearest = np.full(len(real), np.inf)  # each reference point's squared distance to its nearest sample
    for i in range(0, len(fake), BATCH):
        d2 = squared_distances(fake[i:i + BATCH], real, real_sq)  # (B, N)
        inside = d2 <= r_real[None, :]
        in_real += int(inside.any(1).sum())
        balls += int(inside.sum())
        recalled |= (d2 <= r_fake[i:i + BATCH, None]).any(0)
        np.minimum(nearest, d2.min(0), out=nearest)
    m = len(fake)
    return Fidelity(k, in_real / m, float(recalled.mean()), balls / (k * m), float((nearest <= r_real).mean()))


def _chunks(n_total: int, n: int) -> list[slice]:
    return [slice(c * n, (c + 1) * n) for c in range(n_total // n)]


def chunk_radii(reference: np.ndarray, n: int, k: int = K, *, key: str | None = None,
                cache: Path | None = None) -> np.ndarray:
    """k-NN radii within each consecutive chunk of n reference points: (N // n, n) float64.
    With a `key` they are kept in memory, and as `{key}-knn{k}-n{n}.npz` in `cache` when given."""
    name = f"{key}-knn{k}-n{n}"
    if key is not None and name in _radii_memory:
        return _radii_memory[name]
    path = cache / f"{name}.npz" if key is not None and cache is not None else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as f:
            radii = f["radii"]
    else:
        radii = np.stack([knn_radii(reference[s], k) for s in _chunks(len(reference), n)])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(partial, radii=radii, k=k, n=n)
            partial.replace(path)
    if key is not None:
        _radii_memory[name] = radii
    return radii


def matched_fidelity(samples: np.ndarray, reference: np.ndarray, k: int = K, *, key: str | None = None,
                     cache: Path | None = None) -> Fidelity:
    """`fidelity` between sets of equal size n = min(M, N): the samples' and the reference's
    consecutive chunks of n points, paired cyclically (max of the two chunk counts pairs), averaged."""
    fake, real = _as_float64(samples), _as_float64(reference)
    n = min(len(fake), len(real))
    real_radii = chunk_radii(real, n, k, key=key, cache=cache)
    fake_chunks, real_chunks = _chunks(len(fake), n), _chunks(len(real), n)
    fake_radii = [knn_radii(fake[s], k) for s in fake_chunks]
    scores = []
    for t in range(max(len(fake_chunks), len(real_chunks))):
        a, b = t % len(fake_chunks), t % len(real_chunks)
        scores.append(fidelity(fake[fake_chunks[a]], real[real_chunks[b]], k, reference_radii=real_radii[b],
                               sample_radii=fake_radii[a]))
    return Fidelity(k, *(float(np.mean([getattr(s, f) for s in scores]))
                         for f in ("precision", "recall", "density", "coverage")))


def benchmark(n: int = 1000, n_reference: int = 5000, dim: int = 128, seed: int = 0) -> dict:
    """Seconds, on random features, for n samples against n_reference references: 'radii' (the
    reference's k-NN radii over all of it, once per reference), 'plain' (`fidelity` given them),
    'matched' (`matched_fidelity`, chunk radii not cached) and 'bootstrap' (200 FID resamples)."""
    rng = np.random.default_rng(seed)
    fake, real = rng.normal(size=(n, dim)), rng.normal(size=(n_reference, dim))
    timings, start = {}, time.perf_counter()
    radii = knn_radii(real)
    timings["radii"], start = time.perf_counter() - start, time.perf_counter()
    fidelity(fake, real, reference_radii=radii)
    timings["plain"], start = time.perf_counter() - start, time.perf_counter()
    matched_fidelity(fake, real)
    timings["matched"], start = time.perf_counter() - start, time.perf_counter()
    bootstrap_fid(fake, GaussianStats.from_features(real), 200)
    timings["bootstrap"] = time.perf_counter() - start
    return timings
