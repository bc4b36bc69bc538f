"""Fréchet distance between Gaussians fitted to feature sets, in float64.

d^2 = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})
(Dowson & Landau, 1982; used as FID by Heusel et al., 2017). The trace of the
matrix square root is computed from the eigenvalues of the symmetric PSD
matrix S1^{1/2} S2 S1^{1/2}, so only symmetric eigendecompositions are needed:
no complex parts, no iteration. Rank-deficient covariances (fewer samples than
dimensions) are handled by zeroing eigenvalues below the numerical-rank
tolerance max|w| * D * eps (numpy's matrix_rank default): the square root would
otherwise turn round-off of size eps into errors of size sqrt(eps).

`bootstrap_fid` and `fid_interval`: FID's bootstrap interval over the samples (docs/metrics.md).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class GaussianStats:
    mu: np.ndarray  # (D,) float64
    sigma: np.ndarray  # (D, D) float64, unbiased sample covariance
    n: int

    @classmethod
    def from_features(cls, features: np.ndarray) -> GaussianStats:
        x = np.asarray(features, dtype=np.float64)  # (N, D)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"need (N >= 2, D) features, got shape {x.shape}")
        return cls(mu=x.mean(axis=0), sigma=np.cov(x, rowvar=False), n=len(x))


def _clip_round_off(w: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with those below the numerical-rank tolerance set to 0."""
    tol = np.abs(w).max(initial=0.0) * len(w) * np.finfo(np.float64).eps
    return np.where(w > tol, w, 0.0)


def psd_sqrt(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix via eigh."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(_clip_round_off(w))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"shape mismatch: mu {mu1.shape} {mu2.shape}, sigma {s1.shape} {s2.shape}")
    root1 = psd_sqrt(s1)
    middle = root1 @ s2 @ root1  # S1^{1/2} S2 S1^{1/2}: symmetric PSD
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_covmean = np.sqrt(_clip_round_off(eig)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def frechet_distance_stats(a: GaussianStats, b: GaussianStats) -> float:
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


@contextmanager
def _one_torch_thread():
    """Small (D x D) LAPACK calls run several times faster on one thread than on two that compete
    with other processes (200 eigvalsh of 128 x 128: 0.12 s against 2.0 s on 2 busy cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def bootstrap_fid(features: np.ndarray, reference: GaussianStats, n_boot: int = 200, seed: int = 0) -> np.ndarray:
    """FID of `n_boot` resamples (with replacement, seeded) of sample features (N, D) against the
    fixed reference statistics: float64 (n_boot,). A resample is drawn as counts of the N rows;
    the reference's square root is computed once."""
    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    root = torch.from_numpy(psd_sqrt(reference.sigma))
    ref_mu, trace_ref = torch.from_numpy(reference.mu), float(np.trace(reference.sigma))
    xt, values = torch.from_numpy(x), np.empty(n_boot)
    with _one_torch_thread(), torch.no_grad():
        for b, w in enumerate(torch.from_numpy(counts)):
            mu = w @ xt / n
            sigma = ((xt * w[:, None]).T @ xt - n * torch.outer(mu, mu)) / (n - 1)
            middle = root @ sigma @ root  # S_ref^{1/2} S_b S_ref^{1/2}: the trace root does not depend on the order
            eig = _clip_round_off(torch.linalg.eigvalsh((middle + middle.T) / 2).numpy())
            diff = mu - ref_mu
            values[b] = float(diff @ diff + torch.trace(sigma)) + trace_ref - 2.0 * np.sqrt(eig).sum()
    return values


def fid_interval(point: float, values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The bootstrap percentile interval moved so that the resamples' mean sits on `point`.
    Resampling duplicates samples, which raises FID (its bias grows as the number of distinct
    samples falls): by about 4-6 at N = 1,000 and 40-50 at N = 100 (docs/metrics.md), so the raw
    percentiles would miss the point estimate. Clipped at 0 (but never above the estimate)."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail]) - np.mean(values) + point
    return min(max(float(low), 0.0), point), max(float(high), point)
