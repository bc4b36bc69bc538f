"""The reverse process of DDPM, DDIM steps and classifier-free guidance (the ddpm-sampler exercise).

Ho et al. (2020), eq. 7: the posterior q(x_{t-1} | x_t, x_0) with alpha_bar_{-1} = 1; the ancestral
step x_{t-1} = mean + sqrt(variance) * noise (no noise at t = 0). Song et al. (2021), eq. 12: the
DDIM step with eta scaling the noise (eta = 1 has the DDPM posterior variance). Ho & Salimans (2022),
eq. 6, with guidance_scale = 1 + w. Every function computes in the dtype of its data tensor from the
schedule values as given (cast after gathering); the judge calls them on float64 copies. This file
defines the exercise's functions and is never shipped into a grading sandbox.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _gather(values: Tensor, t: Tensor, like: Tensor, *, prev: bool = False) -> Tensor:
    """values[t] (values[t - 1] with prev, 1 where t - 1 == -1) as (B, 1, ..., 1) in like's dtype and device."""
    values = values.to(like.device)
    t = t.to(like.device)
    if prev:
        out = torch.where(t > 0, values[(t - 1).clamp(min=0)], torch.ones((), dtype=values.dtype, device=like.device))
    else:
        out = values[t]
    return out.to(like.dtype).reshape(t.shape[0], *([1] * (like.dim() - 1)))


def q_posterior_mean_variance(x0: Tensor, xt: Tensor, t: Tensor, betas: Tensor,
                              alphas_cumprod: Tensor) -> tuple[Tensor, Tensor]:
    beta, abar = _gather(betas, t, xt), _gather(alphas_cumprod, t, xt)
    abar_prev = _gather(alphas_cumprod, t, xt, prev=True)
    mean = beta * abar_prev.sqrt() / (1 - abar) * x0 + (1 - abar_prev) * (1 - beta).sqrt() / (1 - abar) * xt
    variance = (beta * (1 - abar_prev) / (1 - abar)).expand_as(xt)
    return mean, variance


def predict_x0_from_eps(xt: Tensor, t: Tensor, eps: Tensor, alphas_cumprod: Tensor) -> Tensor:
    abar = _gather(alphas_cumprod, t, xt)
    return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()


def p_sample(model, xt: Tensor, t: Tensor, betas: Tensor, alphas_cumprod: Tensor, noise: Tensor) -> Tensor:
    x0 = predict_x0_from_eps(xt, t, model(xt, t), alphas_cumprod)
    mean, variance = q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod)
    keep = (t != 0).to(xt.dtype).reshape(t.shape[0], *([1] * (xt.dim() - 1)))
    return mean + keep * variance.sqrt() * noise


def ddim_sigma(abar: Tensor, abar_prev: Tensor, eta: float) -> Tensor:
    """Song et al. (2021), eq. 16: eta * sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))."""
    return eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()


def ddim_step(model, xt: Tensor, t: Tensor, t_prev: Tensor, alphas_cumprod: Tensor, eta: float = 0.0,
              noise: Tensor | None = None) -> Tensor:
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    abar = _gather(alphas_cumprod, t, xt)
    abar_prev = _gather(alphas_cumprod, t_prev + 1, xt, prev=True)  # alphas_cumprod[t_prev], 1 at t_prev = -1
    sigma = ddim_sigma(abar, abar_prev, eta)
    out = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma ** 2).clamp(min=0).sqrt() * eps
    if eta == 0:
        return out
    assert noise is not None, "noise may be None only when eta == 0"
    return out + sigma * noise


def classifier_free_guidance(eps_cond: Tensor, eps_uncond: Tensor, guidance_scale: float) -> Tensor:
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)
