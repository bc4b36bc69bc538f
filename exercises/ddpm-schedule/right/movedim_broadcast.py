"""Broadcasting by moving the batch dimension last; index_select; cumprod of alphas in a helper."""
import math

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.linspace(0, 1, T) * (beta_end - beta_start) + beta_start


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    def f(t):
        return torch.cos((t / T + s) / (1 + s) * (math.pi / 2)).pow(2)

    i = torch.arange(T, dtype=torch.float64)
    return torch.minimum(1 - f(i + 1) / f(i), torch.full_like(i, max_beta))


def _alphas(betas):
    return 1 - betas


def alphas_cumprod(betas):
    return _alphas(betas).cumprod(0)


def q_sample(x0, t, noise, alphas_cumprod):
    abar = alphas_cumprod.index_select(0, t.to(alphas_cumprod.device)).to(x0)
    # (..., B) * (B,) broadcasts over the batch once the batch dimension is last
    x_t = x0.movedim(0, -1) * abar.sqrt() + noise.movedim(0, -1) * (1 - abar).sqrt()
    return x_t.movedim(-1, 0)
