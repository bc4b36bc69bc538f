"""A small UNet noise predictor eps_theta(x_t, t) for the DDPM (Ho et al., 2020).

Residual blocks with GroupNorm and a sinusoidal time embedding (Vaswani et al.,
2017) added after the first conv; no attention, to stay cheap on a CPU. With
`num_classes` > 0 a learned class embedding is added to the time embedding, and
label `num_classes` is the "no class" token of classifier-free guidance (Ho &
Salimans, 2022): the same network predicts eps(x_t, t, y) and eps(x_t, t).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class UNetConfig:
    channels: int = 1
    width: int = 32
    channel_mult: tuple[int, ...] = (1, 2, 2)  # one level per entry; the image halves between levels
    groups: int = 8
    num_classes: int = 0  # > 0: class-conditional, with one more label for "no class"


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of integer timesteps. (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)  # (half,)
    args = t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.t_proj = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(groups, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.t_proj(temb)[:, :, None, None]  # time added per channel
        h = self.conv2(F.silu(self.norm2(h)))  # (B, c_out, H, W)
        return h + self.skip(x)


class UNet(nn.Module):
    def __init__(self, config: UNetConfig):
        super().__init__()
        c = config
        widths = [c.width * m for m in c.channel_mult]
        t_dim = 4 * c.width
        self.t_mlp = nn.Sequential(nn.Linear(c.width, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.num_classes = c.num_classes
        if c.num_classes > 0:
            self.label_emb = nn.Embedding(c.num_classes + 1, t_dim)
        self.conv_in = nn.Conv2d(c.channels, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        prev = widths[0]
        for w in widths:
            self.down.append(ResBlock(prev, w, t_dim, c.groups))
            prev = w
        self.downsample = nn.ModuleList(nn.Conv2d(w, w, 3, stride=2, padding=1) for w in widths[:-1])
        self.mid = ResBlock(prev, prev, t_dim, c.groups)
        self.up = nn.ModuleList()
        for w in reversed(widths):
            self.up.append(ResBlock(prev + w, w, t_dim, c.groups))  # input: concat with the skip
            prev = w
        self.norm_out = nn.GroupNorm(c.groups, prev)
        self.conv_out = nn.Conv2d(prev, c.channels, 3, padding=1)
        self.width = c.width

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """x_t (B, C, H, W), t (B,) int, y (B,) int class labels of a conditional network (None or
        num_classes: no class) -> predicted noise (B, C, H, W)."""
        temb = self.t_mlp(timestep_embedding(t, self.width))  # (B, t_dim)
        if self.num_classes > 0:
            if y is None:
                y = torch.full_like(t, self.num_classes)
            temb = temb + self.label_emb(y)
        elif y is not None:
            raise ValueError("this UNet is unconditional (num_classes = 0): it takes no labels")
        h = self.conv_in(x)  # (B, w0, H, W)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, temb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)  # (B, w_i, H / 2^(i+1), W / 2^(i+1))
        h = self.mid(h, temb)  # (B, w_last, H / 2^(L-1), W / 2^(L-1))
        for block in self.up:
            skip = skips.pop()
            if h.shape[-1] != skip.shape[-1]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")  # (B, w, H_skip, W_skip)
            h = block(torch.cat([h, skip], dim=1), temb)
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, C, H, W)
