"""Denoising score matching and annealed Langevin dynamics (the score-matching exercise).

Vincent (2011): for x_noisy = x + sigma * noise, the score of the Gaussian perturbation kernel is
-(x_noisy - x) / sigma^2 = -noise / sigma, and matching it trains a model of the score of the noised
data. Song & Ermon (2019) weight each noise level by lambda(sigma) = sigma^2 (eq. 6), so every level
contributes a loss of order one, and sample with annealed Langevin dynamics (Algorithm 1) at the step
size eps * sigma_i^2 / sigma_L^2. This file defines the exercise's functions and is never shipped into
a grading sandbox.
"""
from __future__ import annotations

import math

from torch import Tensor


def _per_sample(values: Tensor, like: Tensor) -> Tensor:
    return values.reshape(like.shape[0], *([1] * (like.dim() - 1)))


def dsm_loss(score_model, x: Tensor, sigmas: Tensor, sigma_idx: Tensor, noise: Tensor) -> Tensor:
    sigma = _per_sample(sigmas.to(x.device)[sigma_idx.to(x.device)].to(x.dtype), x)
    target = -noise / sigma
    diff = score_model(x + sigma * noise, sigma_idx) - target
    per_sample = 0.5 * sigma.reshape(-1) ** 2 * diff.pow(2).flatten(1).sum(1)
    return per_sample.mean()


def langevin_step(score_model, x: Tensor, sigma_idx: Tensor, step_size: float, noise: Tensor) -> Tensor:
    return x + step_size / 2 * score_model(x, sigma_idx) + math.sqrt(step_size) * noise


def annealed_step_size(sigmas: Tensor, i: int, eps: float) -> float:
    return float(eps * (sigmas[i].double() / sigmas[-1].double()) ** 2)


def gaussian_dsm_optimum(data_std: float, sigma: float, dim: int) -> float:
    """E[dsm_loss] at the true score of N(0, data_std^2 I) perturbed by sigma: 0.5 d s^2 / (s^2 + sigma^2).

    With s* = -x_noisy / (s^2 + sigma^2), s* + noise / sigma = (s^2 noise - sigma x) / (sigma (s^2 + sigma^2)),
    a Gaussian of variance s^2 / (sigma^2 (s^2 + sigma^2)) per dimension; times sigma^2 / 2."""
    return 0.5 * dim * data_std ** 2 / (data_std ** 2 + sigma ** 2)
