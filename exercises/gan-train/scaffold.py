"""The training program of gan-train: a DCGAN (reference_models/gan_nets.py) trained with
YOUR train_step, discriminator_loss and generator_loss.

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
The judge calls `train` in a first sandbox (with the Fashion-MNIST training split) and
`sample` in a second one (with the checkpoint `train` returned, and no dataset).

- train: G and D with Adam(lr, betas=(0.5, 0.999)) each (Radford et al. 2016). Each step
  draws a batch of real images scaled to [-1, 1] and z ~ N(0, I), and calls your
  train_step(G, D, opt_G, opt_D, real, z); the two losses it returns are logged.
  Only the generator's weights are returned: sampling needs nothing else.
- sample: G in eval mode (BatchNorm uses its running statistics) on z ~ N(0, I) drawn from
  the judge's generator; tanh outputs in [-1, 1] mapped to uint8 pixels.
"""
from __future__ import annotations

import math

import solution as student
import torch

from reference_models.gan_nets import DCGANConfig, Discriminator, Generator

DEFAULTS = {"z_dim": 64, "width": 32, "lr": 2e-4, "sample_batch": 500}


def _options(budget) -> dict:
    return {**DEFAULTS, **budget.options}


def _config(o: dict) -> DCGANConfig:
    return DCGANConfig(image_size=28, channels=1, z_dim=o["z_dim"], width=o["width"], lr=o["lr"])


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (N, 28, 28) on the CPU. Returns the generator's state_dict."""
    o = _options(budget)
    c = _config(o)
    torch.manual_seed(budget.seed)  # initial weights and z
    batches = torch.Generator().manual_seed(budget.seed)  # which images go into each batch
    G, D = Generator(c).to(budget.device), Discriminator(c).to(budget.device)
    opt_G = torch.optim.Adam(G.parameters(), lr=c.lr, betas=c.betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=c.lr, betas=c.betas)
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        real = images[idx].unsqueeze(1).to(budget.device).float() / 127.5 - 1.0  # (B, 1, 28, 28) in [-1, 1]
        z = torch.randn(budget.batch_size, c.z_dim, device=budget.device)
        losses = student.train_step(G, D, opt_G, opt_D, real, z)
        if not (isinstance(losses, dict) and {"d_loss", "g_loss"} <= set(losses)):
            raise TypeError(f"train_step must return {{'d_loss': float, 'g_loss': float}}, got {losses!r:.100}")
        d_loss, g_loss = float(losses["d_loss"]), float(losses["g_loss"])
        if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
            raise FloatingPointError(f"the losses are not finite at step {step}: d_loss={d_loss}, g_loss={g_loss}")
        budget.log(step, d_loss=d_loss, g_loss=g_loss)
        step += 1
    return G.state_dict()


@torch.no_grad()
def sample(state: dict[str, torch.Tensor], n: int, generator: torch.Generator, budget) -> torch.Tensor:
    """n images as uint8 (n, 28, 28); z is drawn from `generator` (CPU)."""
    o = _options(budget)
    c = _config(o)
    G = Generator(c)
    G.load_state_dict(state)
    G.to(budget.device).eval()
    chunks = []
    for start in range(0, n, o["sample_batch"]):
        z = torch.randn(min(o["sample_batch"], n - start), c.z_dim, generator=generator).to(budget.device)
        x = G(z)  # (m, 1, 28, 28) in [-1, 1]
        chunks.append(((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0].cpu())  # (m, 28, 28)
    return torch.cat(chunks)
