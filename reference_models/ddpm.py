"""DDPM noise schedules and the forward process.

Ho et al. (2020) linear schedule; Nichol & Dhariwal (2021) cosine schedule.
Schedules are computed in float64.

The model below is a UNet noise predictor with the reverse process of
`reference_models.diffusion` (the "simple" loss, DDPM and DDIM samplers) built
from these reference functions. This file defines the functions of the
ddpm-schedule exercise and is never shipped into a grading sandbox.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from reference_models import diffusion
from reference_models.diffusion import extract  # noqa: F401  (public here before diffusion.py existed)
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


def q_sample(x0: Tensor, t: Tensor, noise: Tensor, alphas_cumprod: Tensor) -> Tensor:
    """x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise."""
    abar = alphas_cumprod.to(x0.device)[t].to(torch.float64)  # (B,)
    shape = (t.shape[0],) + (1,) * (x0.dim() - 1)
    sqrt_abar = abar.sqrt().to(x0.dtype).reshape(shape)
    sqrt_one_minus = (1.0 - abar).sqrt().to(x0.dtype).reshape(shape)
    return sqrt_abar * x0 + sqrt_one_minus * noise


class GaussianDiffusion(diffusion.GaussianDiffusion):
    """The reverse process of `reference_models.diffusion` on the reference schedule functions."""

    def __init__(self, betas: Tensor):
        betas = betas.to(torch.float64)
        super().__init__(betas, alphas_cumprod(betas), q_sample)


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
