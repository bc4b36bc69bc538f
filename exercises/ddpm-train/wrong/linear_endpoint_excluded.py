import math

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    import numpy as np
    return torch.from_numpy(np.linspace(beta_start, beta_end, T, endpoint=False))


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    t = torch.arange(T + 1, dtype=torch.float64)
    alpha_bar = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
    return torch.clamp(betas, max=max_beta)


def alphas_cumprod(betas):
    return torch.cumprod(1 - betas, dim=0)


def q_sample(x0, t, noise, alphas_cumprod):
    abar = alphas_cumprod.to(x0.device)[t].to(x0.dtype)  # (B,)
    abar = abar.view(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ..., 1)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise
