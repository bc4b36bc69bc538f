"""Variational autoencoder: the ELBO and the reparameterization trick.

Kingma & Welling (2014), "Auto-Encoding Variational Bayes": for a diagonal
Gaussian posterior and a standard normal prior,
KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from reference_models.training import SingleLossModel
from reference_models.vae_nets import VAEConfig, vae_decoder, vae_encoder


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) per row. (B, D) -> (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def negative_elbo(x: Tensor, recon_logits: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """Bernoulli-decoder negative ELBO, mean over the batch. 0-dim."""
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none")
    recon = bce.flatten(start_dim=1).sum(dim=1)  # (B,)
    return (recon + gaussian_kl(mu, logvar)).mean()


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)."""
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


class ConvVAE(SingleLossModel):
    """Conv encoder to a diagonal Gaussian posterior, conv decoder to Bernoulli logits."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder, self.decoder = vae_encoder(config), vae_decoder(config)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x in [0, 1] -> (recon_logits, mu, logvar)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # 2 x (B, latent)
        z = reparameterize(mu, logvar)  # (B, latent)
        return self.decoder(z), mu, logvar

    def loss(self, batch: Tensor) -> Tensor:
        """Negative ELBO in nats per image; `batch` is uint8 (B, C, H, W),
        scaled to [0, 1] and used as Bernoulli means (not binarised)."""
        x = batch.float() / 255.0
        recon_logits, mu, logvar = self(x)
        return negative_elbo(x, recon_logits, mu, logvar)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Decoder means of z ~ N(0, I), as uint8 (n, C, H, W)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        probs = torch.sigmoid(self.decoder(z))  # (n, C, H, W)
        return (probs * 255).round().to(torch.uint8)
