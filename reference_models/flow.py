"""RealNVP (Dinh, Sohl-Dickstein & Bengio, 2017): affine coupling layers with
checkerboard and channel masks, exact log-likelihood by change of variables.

Pixels are dequantised with uniform noise u = (x + U[0, 1)) / 256 (Theis et al.,
2016) and mapped to logit space y = logit(a + (1 - 2a) u), so
  log p(u) = log N(f(y); 0, I) + log|det df/dy| + log|det dy/du|
and bits/dim = -(log p(u) - D log 256) / (D log 2), an upper bound on the
discrete model's bits/dim.

The functions before the classes are the flow-coupling exercise's contract on flat
(B, D) data with a given conditioner `net` (exercise-contracts.md, section 6); the
image model below uses the same algebra on (B, C, H, W) with conv conditioners.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from reference_models.training import SingleLossModel


def _coupling_s_t(v: Tensor, mask: Tensor, net) -> tuple[Tensor, Tensor]:
    """s, t of an affine coupling from the conditioning half v * mask; both 0 where mask == 1."""
    s_raw, t = net(v * mask).chunk(2, dim=-1)
    return torch.tanh(s_raw) * (1 - mask), t * (1 - mask)


def affine_coupling_forward(x: Tensor, mask: Tensor, net) -> tuple[Tensor, Tensor]:
    """y = x * exp(s) + t with s, t from net(x * mask); mask 1 = passed through. Returns y (B, D) and
    log|det dy/dx| = sum of s (B,): the Jacobian is triangular up to a permutation (Dinh et al. 2017, eq. 6)."""
    s, t = _coupling_s_t(x, mask, net)
    return x * torch.exp(s) + t, s.sum(-1)


def affine_coupling_inverse(y: Tensor, mask: Tensor, net) -> Tensor:
    """x = (y - t) * exp(-s); y * mask == x * mask, so s and t are recomputed from y (Dinh et al. 2017, eq. 8)."""
    s, t = _coupling_s_t(y, mask, net)
    return (y - t) * torch.exp(-s)


def standard_normal_logprob(z: Tensor) -> Tensor:
    """log N(z; 0, I) of each row, summed over every non-batch dimension: (B, ...) -> (B,)."""
    return (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1)


def bits_per_dim(log_px: Tensor, num_dims: int, n_bins: int = 256) -> Tensor:
    """Bits/dim of data with n_bins levels scaled to [0, 1] and uniformly dequantised, from the density
    log_px (nats) on [0, 1]^num_dims: the discrete probability of a bin is at most density * n_bins^-D."""
    return (-log_px + num_dims * math.log(n_bins)) / (num_dims * math.log(2))


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
    """y = m * x + (1 - m) * (x * exp(s(m * x)) + t(m * x)); log|det| = sum((1 - m) * s)."""

    def __init__(self, channels: int, width: int, mask: Tensor):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * channels, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)  # start as the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1))

    def _s_t(self, x_masked: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self.net(x_masked).chunk(2, dim=1)  # 2 x (B, C, H, W)
        s = self.scale * torch.tanh(s) * (1 - self.mask)  # bounded log-scale, 0 on the fixed half
        return s, t * (1 - self.mask)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self._s_t(x * self.mask)
        return x * torch.exp(s) + t, s.flatten(1).sum(1)  # (B, C, H, W), (B,)

    def inverse(self, y: Tensor) -> Tensor:
        s, t = self._s_t(y * self.mask)
        return (y - t) * torch.exp(-s)


class RealNVP(SingleLossModel):
    def __init__(self, config: RealNVPConfig):
        super().__init__()
        self.config = c = config
        C, S = c.channels, c.image_size
        k_range = range(c.n_couplings)
        self.stage1 = nn.ModuleList(AffineCoupling(C, c.width, checkerboard(S, S, k % 2)) for k in k_range)
        self.stage2 = nn.ModuleList(AffineCoupling(4 * C, c.width, channel_mask(4 * C, k % 2)) for k in k_range)
        self.stage3 = nn.ModuleList(
            AffineCoupling(4 * C, c.width, checkerboard(S // 2, S // 2, k % 2)) for k in k_range
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
            z = layer.inverse(z)
        z = unsqueeze(z)
        for layer in reversed(self.stage1):
            z = layer.inverse(z)
        return z

    def log_prob(self, batch: Tensor) -> Tensor:
        """log p(u) of the dequantised images in [0, 1]^D, nats. uint8 (B, C, H, W) -> (B,)."""
        a = self.config.alpha
        u = (batch.float() + torch.rand_like(batch, dtype=torch.float)) / 256.0
        p = a + (1 - 2 * a) * u
        y = torch.log(p) - torch.log1p(-p)  # logit
        logdet_pre = (math.log(1 - 2 * a) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)  # (B,)
        z, logdet = self._flow(y)
        return standard_normal_logprob(z) + logdet + logdet_pre

    def bits_per_dim(self, batch: Tensor) -> Tensor:
        """(B,) bits per dimension of the 8-bit images (dequantisation bound)."""
        return bits_per_dim(self.log_prob(batch), batch[0].numel())

    def loss(self, batch: Tensor) -> Tensor:
        return self.bits_per_dim(batch).mean()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        c, device = self.config, next(self.parameters()).device
        z = torch.randn(n, 4 * c.channels, c.image_size // 2, c.image_size // 2, generator=generator).to(device)
        p = torch.sigmoid(self._inverse(z))  # (n, C, H, W)
        u = ((p - c.alpha) / (1 - 2 * c.alpha)).clamp(0, 1)
        return (u * 256).floor().clamp(max=255).to(torch.uint8)

