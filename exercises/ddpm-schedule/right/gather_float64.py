"""gather + reshape to (B,) + (1,) * (ndim - 1), arithmetic in float64, cast back at the end."""
import math

import torch


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    step = (beta_end - beta_start) / (T - 1)
    return torch.tensor([beta_start + i * step for i in range(T)], dtype=torch.float64)


def _alpha_bar(t, T, s):
    return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    return torch.tensor([min(1 - _alpha_bar(i + 1, T, s) / _alpha_bar(i, T, s), max_beta) for i in range(T)],
                        dtype=torch.float32)


def alphas_cumprod(betas: torch.Tensor) -> torch.Tensor:
    return torch.cumprod(1.0 - betas.double(), dim=0).to(betas.dtype)


def q_sample(x0, t, noise, alphas_cumprod):
    a = torch.gather(alphas_cumprod.to(x0.device).double(), 0, t.to(x0.device))
    a = a.reshape((x0.shape[0],) + (1,) * (x0.ndim - 1))
    x_t = a.sqrt() * x0.double() + (1.0 - a).sqrt() * noise.double()
    return x_t.to(x0.dtype)
