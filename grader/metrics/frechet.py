"""Fréchet distance between Gaussians fitted to feature sets, in float64.

d^2 = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})
(Dowson & Landau, 1982; used as FID by Heusel et al., 2017). The trace of the
matrix square root is computed from the eigenvalues of the symmetric PSD
matrix S1^{1/2} S2 S1^{1/2}, so only symmetric eigendecompositions are needed:
no complex parts, no iteration. Rank-deficient covariances (fewer samples than
dimensions) are handled by zeroing eigenvalues below the numerical-rank
tolerance max|w| * D * eps (numpy's matrix_rank default): the square root would
otherwise turn round-off of size eps into errors of size sqrt(eps).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
