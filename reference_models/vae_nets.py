"""The convolutional VAE's encoder and decoder, without the ELBO or the sampling trick.

`reference_models.vae` adds the loss and the reparameterization; the vae-train
scaffold plugs in a student's instead, so this file can be shipped into a
grading sandbox. Imports only torch and dataclasses.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass
class VAEConfig:
    image_size: int = 28  # divisible by 4
    channels: int = 1
    latent_dim: int = 16
    width: int = 32
    lr: float = 1e-3


def vae_encoder(c: VAEConfig) -> nn.Sequential:
    """Image (B, C, H, W) -> (B, 2 * latent_dim): the posterior's mean and log-variance, concatenated."""
    w, s = c.width, c.image_size // 4
    return nn.Sequential(
        nn.Conv2d(c.channels, w, 4, 2, 1), nn.ReLU(),  # (B, w, H/2, W/2)
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU(),  # (B, 2w, H/4, W/4)
        nn.Flatten(), nn.Linear(2 * w * s * s, 2 * c.latent_dim),  # (B, 2 * latent)
    )


def vae_decoder(c: VAEConfig) -> nn.Sequential:
    """Latent (B, latent_dim) -> Bernoulli logits (B, C, H, W)."""
    w, s = c.width, c.image_size // 4
    return nn.Sequential(
        nn.Linear(c.latent_dim, 2 * w * s * s), nn.ReLU(),
        nn.Unflatten(1, (2 * w, s, s)),  # (B, 2w, H/4, W/4)
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(),  # (B, w, H/2, W/2)
        nn.ConvTranspose2d(w, c.channels, 4, 2, 1),  # (B, C, H, W) logits
    )
