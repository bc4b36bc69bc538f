"""Schedules built with NumPy (float64) and converted to tensors; improved-diffusion style extraction."""
import math

import numpy as np
import torch


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    return torch.from_numpy(np.linspace(beta_start, beta_end, T, dtype=np.float64))


def betas_for_alpha_bar(num_diffusion_timesteps, alpha_bar, max_beta):
    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar(t2) / alpha_bar(t1), max_beta))
    return np.array(betas)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    betas = betas_for_alpha_bar(T, lambda t: math.cos((t + s) / (1 + s) * math.pi / 2) ** 2, max_beta)
    return torch.tensor(betas)


def alphas_cumprod(betas):
    alphas = 1.0 - betas.detach().cpu().numpy()
    return torch.from_numpy(np.cumprod(alphas, axis=0)).to(betas.device)


def _extract_into_tensor(arr, timesteps, broadcast_shape):
    # as in improved-diffusion: gather, cast to float32, add trailing dims, expand
    res = arr.to(device=timesteps.device)[timesteps].float()
    while len(res.shape) < len(broadcast_shape):
        res = res[..., None]
    return res.expand(broadcast_shape)


def q_sample(x0, t, noise, alphas_cumprod):
    sqrt_ac = torch.sqrt(alphas_cumprod.double())
    sqrt_one_minus = torch.sqrt(1.0 - alphas_cumprod.double())
    out = _extract_into_tensor(sqrt_ac, t, x0.shape) * x0 + _extract_into_tensor(sqrt_one_minus, t, x0.shape) * noise
    return out.to(x0.dtype)
