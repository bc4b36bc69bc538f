"""exp(cumsum(log(1 - beta))), a normalised cosine alpha_bar with clip(0, max_beta), None-indexing."""
import math

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.linspace(beta_start, beta_end, steps=T, dtype=torch.float64)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    x = torch.linspace(0, T, T + 1, dtype=torch.float64)
    ac = torch.cos(((x / T) + s) / (1 + s) * math.pi * 0.5) ** 2
    ac = ac / ac[0]  # f(t) / f(0), as in the paper: the ratios are unchanged
    betas = 1 - (ac[1:] / ac[:-1])
    return torch.clip(betas, 0, max_beta)


def alphas_cumprod(betas):
    return torch.exp(torch.cumsum(torch.log(1 - betas), dim=0))


def q_sample(x0, t, noise, alphas_cumprod):
    ac = alphas_cumprod.to(x0.device)
    sqrt_a = ac.sqrt()[t].to(x0.dtype)
    sqrt_1ma = (1 - ac).sqrt()[t].to(x0.dtype)
    index = (slice(None),) + (None,) * (x0.ndim - 1)
    return sqrt_a[index] * x0 + sqrt_1ma[index] * noise
