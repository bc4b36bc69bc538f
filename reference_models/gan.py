"""GAN losses and one step of the minimax game (Goodfellow et al., 2014).

The losses are written with softplus so they are exact for large |logits|:
-log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reference_models.gan_nets import DCGANConfig, Discriminator, Generator


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]. 0-dim."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss -E[log D(G(z))]. 0-dim."""
    return F.softplus(-fake_logits).mean()


def train_step(G, D, opt_G, opt_D, real: Tensor, z: Tensor) -> dict:
    """Discriminator update on D(real), D(G(z).detach()), then generator update."""
    opt_D.zero_grad()
    fake = G(z)
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_D.step()

    opt_G.zero_grad()
    g_loss = generator_loss(D(fake))
    g_loss.backward()
    opt_G.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class DCGAN(nn.Module):
    """Generator and discriminator trained with the contract's `train_step`."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        self.G, self.D = Generator(config), Discriminator(config)

    def optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.config
        return [torch.optim.Adam(m.parameters(), lr=c.lr, betas=c.betas) for m in (self.G, self.D)]

    def training_step(self, batch: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        opt_G, opt_D = optimizers
        real = batch.float() / 127.5 - 1.0  # uint8 -> [-1, 1]
        z = torch.randn(len(real), self.config.z_dim, device=real.device)
        return train_step(self.G, self.D, opt_G, opt_D, real, z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """uint8 (n, C, H, W) from z ~ N(0, I) with the generator in eval mode."""
        was_training = self.G.training
        self.G.eval()
        z = torch.randn(n, self.config.z_dim, generator=generator).to(next(self.parameters()).device)
        x = self.G(z)  # (n, C, H, W) in [-1, 1]
        self.G.train(was_training)
        return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
