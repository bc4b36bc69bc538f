"""Gaussian diffusion: coefficients and the reverse process (Ho et al., 2020; Song et al., 2021).

Built from a noise schedule given as data: the betas, their cumulative product
alpha_bar and the forward-process function q_sample. `reference_models.ddpm`
builds it from the reference schedule; the ddpm-train scaffold builds it from a
student's functions, so this file defines none of them and can be shipped into
a grading sandbox. Imports only torch and math.

The noise predictor is trained with the "simple" loss ||eps - eps_theta(x_t, t)||^2
(Ho et al., 2020, eq. 14). Sampling: the DDPM ancestral sampler, and DDIM (Song
et al., 2021) on a subsequence of timesteps. Coefficients are computed once in
float64; their names follow improved-diffusion's `GaussianDiffusion`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def extract(coefficients: Tensor, t: Tensor, like: Tensor) -> Tensor:
    """coefficients[t] reshaped to (B, 1, ..., 1) to broadcast over `like`."""
    out = coefficients.to(like.device)[t].to(like.dtype)  # (B,)
    return out.reshape(t.shape[0], *([1] * (like.dim() - 1)))


class GaussianDiffusion:
    """Diffusion coefficients, computed once in float64, and the reverse process.

    betas: (T,) the variance schedule; alphas_cumprod: (T,) alpha_bar_t = prod_{s <= t} (1 - beta_s);
    q_sample: the forward process used by `training_loss`. The reverse process reads only the
    coefficients, so a q_sample that disagrees with alphas_cumprod trains the model for a
    process the samplers do not invert.
    """

    def __init__(self, betas: Tensor, alphas_cumprod: Tensor, q_sample):  # q_sample(x0, t, noise, alphas_cumprod)
        self.betas = betas.to(torch.float64)
        self.num_timesteps = len(betas)
        self.alphas_cumprod = alphas_cumprod.to(torch.float64)
        self.q_sample = q_sample
        self.alphas_cumprod_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        self.sqrt_recip_alphas_cumprod = (1.0 / self.alphas_cumprod).sqrt()
        self.sqrt_recipm1_alphas_cumprod = (1.0 / self.alphas_cumprod - 1.0).sqrt()
        # q(x_{t-1} | x_t, x_0) = N(coef1 * x_0 + coef2 * x_t, posterior_variance)  (Ho et al., eq. 7)
        self.posterior_variance = self.betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        # the variance is 0 at t = 0, so its log is clipped to the value at t = 1
        self.posterior_log_variance_clipped = torch.log(
            torch.cat([self.posterior_variance[1:2], self.posterior_variance[1:]])
        )
        self.posterior_mean_coef1 = self.betas * self.alphas_cumprod_prev.sqrt() / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (
            (1.0 - self.alphas_cumprod_prev) * (1.0 - self.betas).sqrt() / (1.0 - self.alphas_cumprod)
        )

    def predict_xstart_from_eps(self, x_t: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        return (
            extract(self.sqrt_recip_alphas_cumprod, t, x_t) * x_t
            - extract(self.sqrt_recipm1_alphas_cumprod, t, x_t) * eps
        )

    def predict_eps_from_xstart(self, x_t: Tensor, t: Tensor, pred_xstart: Tensor) -> Tensor:
        return (extract(self.sqrt_recip_alphas_cumprod, t, x_t) * x_t - pred_xstart) / extract(
            self.sqrt_recipm1_alphas_cumprod, t, x_t
        )

    def training_loss(self, model: nn.Module, x_start: Tensor) -> Tensor:
        """The simple loss: MSE between the true and the predicted noise, t ~ U{0..T-1}."""
        t = torch.randint(0, self.num_timesteps, (len(x_start),), device=x_start.device)  # (B,)
        noise = torch.randn_like(x_start)
        x_t = self.q_sample(x_start, t, noise, self.alphas_cumprod)  # (B, C, H, W)
        return F.mse_loss(model(x_t, t), noise)

    def p_mean_variance(
        self, model: nn.Module, x_t: Tensor, t: Tensor, clip_denoised: bool = True
    ) -> dict[str, Tensor]:
        """Mean and fixed ("small") variance of p(x_{t-1} | x_t), via the predicted x_0."""
        pred_xstart = self.predict_xstart_from_eps(x_t, t, model(x_t, t))  # (B, C, H, W)
        if clip_denoised:
            pred_xstart = pred_xstart.clamp(-1.0, 1.0)
        mean = (
            extract(self.posterior_mean_coef1, t, x_t) * pred_xstart
            + extract(self.posterior_mean_coef2, t, x_t) * x_t
        )
        return {
            "mean": mean,
            "variance": extract(self.posterior_variance, t, x_t),
            "log_variance": extract(self.posterior_log_variance_clipped, t, x_t),
            "pred_xstart": pred_xstart,
        }

    @torch.no_grad()
    def p_sample_loop(
        self, model: nn.Module, shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str
    ) -> Tensor:
        """Ancestral sampling x_T -> x_0 over all T steps; noise drawn from `generator` on the CPU."""
        x = torch.randn(shape, generator=generator).to(device)
        for i in reversed(range(self.num_timesteps)):
            t = torch.full((shape[0],), i, device=device, dtype=torch.long)
            out = self.p_mean_variance(model, x, t)
            x = out["mean"]
            if i > 0:
                x = x + (0.5 * out["log_variance"]).exp() * torch.randn(shape, generator=generator).to(device)
        return x

    @torch.no_grad()
    def ddim_sample_loop(
        self, model: nn.Module, shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str,
        steps: int = 50, eta: float = 0.0,
    ) -> Tensor:
        """DDIM (Song et al., 2021, eq. 12) on `steps` evenly spaced timesteps; eta=0 is deterministic."""
        timesteps = torch.linspace(0, self.num_timesteps - 1, steps).round().long().tolist()
        x = torch.randn(shape, generator=generator).to(device)
        for i in reversed(range(len(timesteps))):
            t = torch.full((shape[0],), timesteps[i], device=device, dtype=torch.long)
            pred_xstart = self.p_mean_variance(model, x, t)["pred_xstart"]
            eps = self.predict_eps_from_xstart(x, t, pred_xstart)  # consistent with the clipped x_0
            abar = self.alphas_cumprod[timesteps[i]].item()
            abar_prev = self.alphas_cumprod[timesteps[i - 1]].item() if i > 0 else 1.0
            sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)) if eta > 0 else 0.0
            x = math.sqrt(abar_prev) * pred_xstart + math.sqrt(1 - abar_prev - sigma**2) * eps
            if sigma > 0:
                x = x + sigma * torch.randn(shape, generator=generator).to(device)
        return x
