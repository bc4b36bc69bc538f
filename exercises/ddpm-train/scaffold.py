"""The training program of ddpm-train: a small UNet noise predictor (reference_models/unet.py)
trained and sampled with YOUR noise schedule, alphas_cumprod and q_sample.

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
The judge calls `train` in a first sandbox (with the Fashion-MNIST training split) and
`sample` in a second one (with the checkpoint `train` returned, and no dataset).

- train: betas = your linear_beta_schedule(T) (cosine_beta_schedule(T) when the options say
  schedule = "cosine"), alpha_bar = your alphas_cumprod(betas). Each step draws a batch x0,
  t ~ U{0..T-1} and eps ~ N(0, I), computes x_t = your q_sample(x0, t, eps, alpha_bar) and takes
  one Adam step on ||eps - eps_theta(x_t, t)||^2 (the "simple" loss of Ho et al. 2020).
- sample: DDIM (Song et al. 2021, eta = 0) on `ddim_steps` evenly spaced timesteps, with
  coefficients computed from your betas and your alpha_bar. The reverse process does not call
  q_sample: if your q_sample disagrees with alpha_bar, the model learns to undo a process
  that the sampler does not run.
"""
from __future__ import annotations

import math

import solution as student
import torch

from reference_models.diffusion import GaussianDiffusion
from reference_models.unet import UNet, UNetConfig

DEFAULTS = {"timesteps": 1000, "schedule": "linear", "width": 16, "channel_mult": [1, 2, 2], "lr": 1e-3,
            "ddim_steps": 20, "sample_batch": 250}


def _options(budget) -> dict:
    return {**DEFAULTS, **budget.options}


def _model(o: dict) -> UNet:
    return UNet(UNetConfig(channels=1, width=o["width"], channel_mult=tuple(o["channel_mult"])))


def _diffusion(o: dict) -> GaussianDiffusion:
    schedule = {"linear": student.linear_beta_schedule, "cosine": student.cosine_beta_schedule}[o["schedule"]]
    T = o["timesteps"]
    betas = schedule(T)
    abar = student.alphas_cumprod(betas)
    if tuple(betas.shape) != (T,) or tuple(abar.shape) != (T,):
        raise ValueError(f"the schedule needs {T} betas and {T} values of alpha_bar; got shapes "
                         f"{tuple(betas.shape)} and {tuple(abar.shape)}")
    if not bool(((abar > 0) & (abar < 1)).all()):
        raise ValueError(f"alphas_cumprod(betas) must lie strictly between 0 and 1 (the reverse process divides by "
                         f"sqrt(alpha_bar) and by sqrt(1 - alpha_bar)); yours runs from {abar.min().item():.4g} "
                         f"to {abar.max().item():.4g}")
    return GaussianDiffusion(betas, abar, student.q_sample)


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (N, 28, 28) on the CPU. Returns the UNet's state_dict."""
    o = _options(budget)
    torch.manual_seed(budget.seed)  # initial weights, t and eps
    batches = torch.Generator().manual_seed(budget.seed)  # which images go into each batch
    model = _model(o).to(budget.device)
    diffusion = _diffusion(o)
    opt = torch.optim.Adam(model.parameters(), lr=o["lr"])
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        x0 = images[idx].unsqueeze(1).to(budget.device).float() / 127.5 - 1.0  # (B, 1, 28, 28) in [-1, 1]
        loss = diffusion.training_loss(model, x0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss is {value} at step {step}: q_sample returned non-finite values")
        budget.log(step, loss=value)
        step += 1
    return model.state_dict()


@torch.no_grad()
def sample(state: dict[str, torch.Tensor], n: int, generator: torch.Generator, budget) -> torch.Tensor:
    """n images as uint8 (n, 28, 28); all noise is drawn from `generator` (CPU)."""
    o = _options(budget)
    model = _model(o)
    model.load_state_dict(state)
    model.to(budget.device).eval()
    diffusion = _diffusion(o)
    chunks = []
    for start in range(0, n, o["sample_batch"]):
        shape = (min(o["sample_batch"], n - start), 1, 28, 28)
        x = diffusion.ddim_sample_loop(model, shape, generator, budget.device, steps=o["ddim_steps"])
        chunks.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].cpu())  # (m, 28, 28)
    return torch.cat(chunks)
