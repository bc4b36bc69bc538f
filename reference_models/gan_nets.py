"""The DCGAN generator and discriminator (Radford et al., 2016), without the losses.

`reference_models.gan` adds the minimax losses and the training step; the
gan-train scaffold plugs in a student's instead, so this file can be shipped
into a grading sandbox. Imports only torch and dataclasses.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn


@dataclass
class DCGANConfig:
    image_size: int = 28  # divisible by 4
    channels: int = 1
    z_dim: int = 64
    width: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Radford et al. (2016)


class Generator(nn.Module):
    """DCGAN generator (Radford et al., 2016): project, then two stride-2 transposed convs."""

    def __init__(self, c: DCGANConfig):
        super().__init__()
        w, s = c.width, c.image_size // 4
        self.net = nn.Sequential(
            nn.Linear(c.z_dim, 2 * w * s * s, bias=False), nn.Unflatten(1, (2 * w, s, s)),  # (B, 2w, H/4, W/4)
            nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),  # (B, w, H/2, W/2)
            nn.ConvTranspose2d(w, c.channels, 4, 2, 1), nn.Tanh(),  # (B, C, H, W) in [-1, 1]
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """DCGAN discriminator: stride-2 convs with LeakyReLU, one logit per image."""

    def __init__(self, c: DCGANConfig):
        super().__init__()
        w, s = c.width, c.image_size // 4
        self.net = nn.Sequential(
            nn.Conv2d(c.channels, w, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, w, H/2, W/2)
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),  # (B, 2w, H/4, W/4)
            nn.Flatten(), nn.Linear(2 * w * s * s, 1),  # (B, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)  # (B,) logits
