"""DDPM noise schedules and the forward process.

Ho et al. (2020) linear schedule; Nichol & Dhariwal (2021) cosine schedule.
Schedules are computed in float64.

The model below predicts the noise and is trained with the "simple" loss
||eps - eps_theta(x_t, t)||^2 (Ho et al., 2020, eq. 14). Sampling: the DDPM
ancestral sampler, and DDIM (Song et al., 2021) on a subsequence of timesteps.
Coefficient names follow improved-diffusion's `GaussianDiffusion`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reference_models.training import SingleLossModel
from reference_models.unet import UNet, UNetConfig


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """(T,) betas evenly spaced from beta_start to beta_end inclusive."""
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """(T,) betas with alpha_bar(t) = cos(((t / T) + s) / (1 + s) * pi / 2) ** 2."""
    t = torch.arange(T + 1, dtype=torch.float64)
    alpha_bar = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return betas.clamp(max=max_beta)


def alphas_cumprod(betas: Tensor) -> Tensor:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s)."""
    return torch.cumprod(1.0 - betas, dim=0)


def extract(coefficients: Tensor, t: Tensor, like: Tensor) -> Tensor:
    """coefficients[t] reshaped to (B, 1, ..., 1) to broadcast over `like`."""
    out = coefficients.to(like.device)[t].to(like.dtype)  # (B,)
    return out.reshape(t.shape[0], *([1] * (like.dim() - 1)))


def q_sample(x0: Tensor, t: Tensor, noise: Tensor, alphas_cumprod: Tensor) -> Tensor:
    """x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise."""
    abar = alphas_cumprod.to(x0.device)[t].to(torch.float64)  # (B,)
    shape = (t.shape[0],) + (1,) * (x0.dim() - 1)
    sqrt_abar = abar.sqrt().to(x0.dtype).reshape(shape)
    sqrt_one_minus = (1.0 - abar).sqrt().to(x0.dtype).reshape(shape)
    return sqrt_abar * x0 + sqrt_one_minus * noise


class GaussianDiffusion:
    """Diffusion coefficients, computed once in float64, and the reverse process."""

    def __init__(self, betas: Tensor):
        self.betas = betas.to(torch.float64)
        self.num_timesteps = len(betas)
        self.alphas_cumprod = alphas_cumprod(self.betas)
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
        x_t = q_sample(x_start, t, noise, self.alphas_cumprod)  # (B, C, H, W)
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
            sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))
            x = math.sqrt(abar_prev) * pred_xstart + math.sqrt(1 - abar_prev - sigma**2) * eps
            if sigma > 0:
                x = x + sigma * torch.randn(shape, generator=generator).to(device)
        return x


@dataclass
class DDPMConfig:
    image_size: int = 28
    channels: int = 1
    timesteps: int = 1000
    schedule: str = "linear"  # or "cosine"
    width: int = 32
    channel_mult: tuple[int, ...] = (1, 2, 2)
    lr: float = 2e-4


SCHEDULES = {"linear": linear_beta_schedule, "cosine": cosine_beta_schedule}


class DDPM(SingleLossModel):
    def __init__(self, config: DDPMConfig):
        super().__init__()
        self.config = c = config
        self.unet = UNet(UNetConfig(channels=c.channels, width=c.width, channel_mult=tuple(c.channel_mult)))
        self.diffusion = GaussianDiffusion(SCHEDULES[c.schedule](c.timesteps))

    def loss(self, batch: Tensor) -> Tensor:
        return self.diffusion.training_loss(self.unet, batch.float() / 127.5 - 1.0)  # uint8 -> [-1, 1]

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, sampler: str = "ddpm", steps: int = 50
    ) -> Tensor:
        """uint8 (n, C, H, W) from the "ddpm" (all T steps) or "ddim" (`steps` steps) sampler."""
        c, device = self.config, next(self.parameters()).device
        shape = (n, c.channels, c.image_size, c.image_size)
        was_training = self.training
        self.eval()
        if sampler == "ddpm":
            x = self.diffusion.p_sample_loop(self.unet, shape, generator, device)
        elif sampler == "ddim":
            x = self.diffusion.ddim_sample_loop(self.unet, shape, generator, device, steps=steps)
        else:
            raise ValueError(f"sampler must be 'ddpm' or 'ddim', got {sampler!r}")
        self.train(was_training)
        return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
