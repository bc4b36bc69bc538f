"""RealNVP's architecture (Dinh, Sohl-Dickstein & Bengio, 2017) without the coupling algebra.

Checkerboard and channel masks, squeeze, the conv conditioners and the multi-stage flow; the
affine coupling itself and the density come from `ops`, an object with the flow-coupling
contract's functions (exercise-contracts.md, section 6). `reference_models.flow` passes its
own; the flow-train scaffold passes the student's, so this file can be shipped into a grading
sandbox. Imports only torch and reference_models.training.

Pixels are dequantised with uniform noise u = (x + U[0, 1)) / 256 (Theis et al., 2016) and
mapped to logit space y = logit(a + (1 - 2a) u), so
  log p(u) = log N(f(y); 0, I) + log|det df/dy| + log|det dy/du|
and bits/dim = -(log p(u) - D log 256) / (D log 2), an upper bound on the discrete model's bits/dim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from reference_models.training import SingleLossModel


@dataclass
class RealNVPConfig:
    image_size: int = 28  # even
    channels: int = 1
    width: int = 32
    n_couplings: int = 3  # per stage; three stages: checkerboard, squeeze + channel, checkerboard
    alpha: float = 0.05  # logit-transform margin (Dinh et al., 2017, sec. 4.1)
    lr: float = 1e-3


def checkerboard(h: int, w: int, parity: int) -> Tensor:
    """(1, 1, h, w) float mask, 1 where (i + j) % 2 == parity."""
    i, j = torch.arange(h)[:, None], torch.arange(w)[None]
    return ((i + j) % 2 == parity).float()[None, None]


def channel_mask(c: int, parity: int) -> Tensor:
    """(1, c, 1, 1) float mask, 1 on the first half of the channels (second if parity)."""
    m = (torch.arange(c) < c // 2).float()
    return (m if parity == 0 else 1 - m)[None, :, None, None]


def squeeze(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2), each 2x2 patch to channels."""
    B, C, H, W = x.shape
    x = x.view(B, C, H // 2, 2, W // 2, 2).permute(0, 1, 3, 5, 2, 4)  # (B, C, 2, 2, H/2, W/2)
    return x.reshape(B, 4 * C, H // 2, W // 2)


def unsqueeze(x: Tensor) -> Tensor:
    """Inverse of squeeze."""
    B, C4, H2, W2 = x.shape
    x = x.view(B, C4 // 4, 2, 2, H2, W2).permute(0, 1, 4, 2, 5, 3)  # (B, C, H/2, 2, W/2, 2)
    return x.reshape(B, C4 // 4, 2 * H2, 2 * W2)


class AffineCoupling(nn.Module):
    """y = m * x + (1 - m) * (x * exp(s(m * x)) + t(m * x)); log|det| = sum((1 - m) * s), s = tanh(.) * (1 - m).

    The algebra is the contract's (`ops.affine_coupling_forward` / `_inverse` on the flattened image,
    a conv conditioner seen as a (B, D) -> (B, 2D) net): flow-train's scaffold passes the student's
    functions as `ops`, the judge scores the same weights with reference_models.flow's."""

    def __init__(self, channels: int, width: int, mask: Tensor, ops):
        super().__init__()
        self.mask: Tensor
        self.register_buffer("mask", mask)
        last = nn.Conv2d(width, 2 * channels, 3, padding=1)
        nn.init.zeros_(last.weight)  # start as the identity map
        nn.init.zeros_(last.bias)  # type: ignore[arg-type]  # bias=True: never None
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            last,
        )
        self.ops: Any = ops

    def _flat_net(self, shape: torch.Size):
        """The conv conditioner on flat rows: (B, C*H*W) -> (B, 2*C*H*W), s's channels first, then t's."""
        return lambda v: self.net(v.view(shape)).flatten(1)

    def _flat_mask(self, x: Tensor) -> Tensor:
        return self.mask.expand_as(x[:1]).flatten()  # (C*H*W,)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        y, logdet = self.ops.affine_coupling_forward(x.flatten(1), self._flat_mask(x), self._flat_net(x.shape))
        return y.view_as(x), logdet  # (B, C, H, W), (B,)

    def inverse(self, y: Tensor) -> Tensor:
        return self.ops.affine_coupling_inverse(y.flatten(1), self._flat_mask(y), self._flat_net(y.shape)).view_as(y)


class RealNVP(SingleLossModel):
    """`ops`: an object with the flow-coupling contract's four functions (reference_models.flow's
    RealNVP passes its own; flow-train's scaffold the student's module)."""

    def __init__(self, config: RealNVPConfig, ops):
        super().__init__()
        self.config = c = config
        self.ops: Any = ops
        C, S = c.channels, c.image_size
        k_range = range(c.n_couplings)
        self.stage1 = nn.ModuleList(AffineCoupling(C, c.width, checkerboard(S, S, k % 2), ops) for k in k_range)
        self.stage2 = nn.ModuleList(AffineCoupling(4 * C, c.width, channel_mask(4 * C, k % 2), ops)
                                    for k in k_range)
        self.stage3 = nn.ModuleList(
            AffineCoupling(4 * C, c.width, checkerboard(S // 2, S // 2, k % 2), ops) for k in k_range
        )

    def _flow(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """y (B, C, H, W) in logit space -> z (B, 4C, H/2, W/2), log|det| (B,)."""
        logdet = torch.zeros(len(y), device=y.device)
        for layer in self.stage1:
            y, ld = layer(y)
            logdet = logdet + ld
        y = squeeze(y)
        for layer in (*self.stage2, *self.stage3):
            y, ld = layer(y)
            logdet = logdet + ld
        return y, logdet

    def _inverse(self, z: Tensor) -> Tensor:
        for layer in reversed((*self.stage2, *self.stage3)):
            z = cast(AffineCoupling, layer).inverse(z)
        z = unsqueeze(z)
        for layer in reversed(self.stage1):
            z = cast(AffineCoupling, layer).inverse(z)
        return z

    def log_prob(self, batch: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """log p(u) of the dequantised images in [0, 1]^D, nats. uint8 (B, C, H, W) -> (B,).
        The dequantisation noise comes from `generator` (CPU) if given."""
        a = self.config.alpha
        noise = torch.rand(batch.shape, generator=generator).to(batch.device)
        u = (batch.float() + noise) / 256.0
        p = a + (1 - 2 * a) * u
        y = torch.log(p) - torch.log1p(-p)  # logit
        logdet_pre = (math.log(1 - 2 * a) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)  # (B,)
        z, logdet = self._flow(y)
        return self.ops.standard_normal_logprob(z) + logdet + logdet_pre

    def image_bits_per_dim(self, batch: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """(B,) bits per dimension of the 8-bit images (dequantisation bound)."""
        return self.ops.bits_per_dim(self.log_prob(batch, generator), batch[0].numel())

    def loss(self, batch: Tensor) -> Tensor:
        return self.image_bits_per_dim(batch).mean()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        c, device = self.config, next(self.parameters()).device
        z = torch.randn(n, 4 * c.channels, c.image_size // 2, c.image_size // 2, generator=generator).to(device)
        p = torch.sigmoid(self._inverse(z))  # (n, C, H, W)
        u = ((p - c.alpha) / (1 - 2 * c.alpha)).clamp(0, 1)
        return (u * 256).floor().clamp(max=255).to(torch.uint8)

