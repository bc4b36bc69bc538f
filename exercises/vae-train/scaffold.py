"""The training program of vae-train: a convolutional VAE (reference_models/vae_nets.py)
trained with YOUR negative_elbo (and gaussian_kl) and YOUR reparameterize.

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
The judge calls `train` in a first sandbox (with the Fashion-MNIST training split) and
`sample` in a second one (with the checkpoint `train` returned, and no dataset).

- train: pixels scaled to [0, 1] are the Bernoulli targets x. Each step the encoder gives
  (mu, logvar), z = your reparameterize(mu, logvar), the decoder gives logits, and Adam takes
  one step on your negative_elbo(x, logits, mu, logvar). Only the decoder's weights are
  returned: sampling needs nothing else.
- sample: z ~ N(0, I) drawn from the judge's generator; the image is the decoder's mean,
  sigmoid(logits), as uint8 pixels.
"""
from __future__ import annotations

import math

import solution as student
import torch

from reference_models.vae_nets import VAEConfig, vae_decoder, vae_encoder

DEFAULTS = {"latent_dim": 16, "width": 32, "lr": 1e-3, "sample_batch": 500}


def _options(budget) -> dict:
    return {**DEFAULTS, **budget.options}


def _config(o: dict) -> VAEConfig:
    return VAEConfig(image_size=28, channels=1, latent_dim=o["latent_dim"], width=o["width"], lr=o["lr"])


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (N, 28, 28) on the CPU. Returns the decoder's state_dict."""
    c = _config(_options(budget))
    torch.manual_seed(budget.seed)  # initial weights and the reparameterization noise
    batches = torch.Generator().manual_seed(budget.seed)  # which images go into each batch
    encoder, decoder = vae_encoder(c).to(budget.device), vae_decoder(c).to(budget.device)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=c.lr)
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        x = images[idx].unsqueeze(1).to(budget.device).float() / 255.0  # (B, 1, 28, 28) in [0, 1]
        mu, logvar = encoder(x).chunk(2, dim=1)  # 2 x (B, latent_dim)
        z = student.reparameterize(mu, logvar)  # (B, latent_dim)
        loss = student.negative_elbo(x, decoder(z), mu, logvar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the negative ELBO is {value} at step {step}")
        budget.log(step, loss=value)
        step += 1
    return decoder.state_dict()


@torch.no_grad()
def sample(state: dict[str, torch.Tensor], n: int, generator: torch.Generator, budget) -> torch.Tensor:
    """n images as uint8 (n, 28, 28): decoder means of z ~ N(0, I), z drawn from `generator` (CPU)."""
    o = _options(budget)
    c = _config(o)
    decoder = vae_decoder(c)
    decoder.load_state_dict(state)
    decoder.to(budget.device).eval()
    chunks = []
    for start in range(0, n, o["sample_batch"]):
        z = torch.randn(min(o["sample_batch"], n - start), c.latent_dim, generator=generator).to(budget.device)
        probs = torch.sigmoid(decoder(z))  # (m, 1, 28, 28)
        chunks.append((probs * 255).round().to(torch.uint8)[:, 0].cpu())  # (m, 28, 28)
    return torch.cat(chunks)
