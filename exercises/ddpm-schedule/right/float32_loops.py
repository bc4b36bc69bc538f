"""Everything in float32, with explicit loops and an unsqueeze loop for broadcasting."""
import math

import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    i = torch.arange(T, dtype=torch.float32)
    return beta_start + (beta_end - beta_start) * i / (T - 1)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    steps = torch.arange(T + 1, dtype=torch.float32)
    alpha_bar = torch.cos(((steps / T) + s) / (1 + s) * math.pi / 2) ** 2
    betas = torch.zeros(T)
    for i in range(T):
        betas[i] = min(1 - alpha_bar[i + 1] / alpha_bar[i], max_beta)
    return betas


def alphas_cumprod(betas):
    out = torch.empty_like(betas)
    running = torch.ones((), dtype=betas.dtype, device=betas.device)
    for i in range(betas.shape[0]):
        running = running * (1 - betas[i])
        out[i] = running
    return out


def q_sample(x0, t, noise, alphas_cumprod):
    a = alphas_cumprod[t.to(alphas_cumprod.device)].to(device=x0.device, dtype=x0.dtype)
    while a.dim() < x0.dim():
        a = a.unsqueeze(-1)
    return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * noise
