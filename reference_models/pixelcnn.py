"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, 2016): masked convolutions
make p(x) = prod_i p(x_i | x_<i) in raster order, each a 256-way categorical,
so the log-likelihood is exact: bits/dim = cross-entropy / log 2.

Single-channel images; a type-A mask hides the centre pixel (first layer), type B
lets later layers see it. This plain stack has the known blind spot that the
gated PixelCNN (van den Oord et al., 2016b) fixes; it is kept for clarity.

`causal_conv_mask`, `MaskedConv2d` and `pixel_nll_bits_per_dim` are the pixelcnn-mask
exercise's contract (exercise-contracts.md, section 7): colour channels are not ordered, so one
(k, k) mask multiplies every (out, in) channel pair.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reference_models.training import SingleLossModel


@dataclass
class PixelCNNConfig:
    image_size: int = 28
    width: int = 64
    n_layers: int = 5  # type-B residual layers after the type-A input layer
    lr: float = 1e-3


def causal_conv_mask(kernel_size: int, mask_type: str) -> Tensor:
    """(k, k) float32: 1 on the rows above the centre and left of the centre on its row; the centre is 1
    for "B" and 0 for "A" (van den Oord et al. 2016, section 3.4)."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', not {mask_type!r}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, not {kernel_size}")
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:c] = 1  # rows above
    mask[c, : c + (mask_type == "B")] = 1  # left of the centre (and the centre for B)
    return mask


class MaskedConv2d(nn.Conv2d):
    """A convolution whose output (i, j) sees only the input pixels before (i, j) in raster order."""

    def __init__(self, mask_type: str, c_in: int, c_out: int, kernel_size: int):
        mask = causal_conv_mask(kernel_size, mask_type)  # raises before any parameter is made
        super().__init__(c_in, c_out, kernel_size, padding=kernel_size // 2)
        self.register_buffer("mask", mask.expand_as(self.weight).clone())  # (c_out, c_in, k, k)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def pixel_nll_bits_per_dim(logits: Tensor, x: Tensor) -> Tensor:
    """logits (B, 256, C, H, W), x (B, C, H, W) int64: the batch mean of each image's summed
    cross-entropy in bits per sub-pixel. F.cross_entropy works from log-softmax, exact for large logits."""
    nll = F.cross_entropy(logits, x, reduction="none")  # (B, C, H, W) nats
    return (nll.flatten(1).sum(1) / (x[0].numel() * math.log(2))).mean()


class PixelCNN(SingleLossModel):
    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = c = config
        self.conv_in = MaskedConv2d("A", 1, c.width, 7)
        self.layers = nn.ModuleList(MaskedConv2d("B", c.width, c.width, 3) for _ in range(c.n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c.width, c.width, 1), nn.ReLU(), nn.Conv2d(c.width, 256, 1))

    def forward(self, batch: Tensor) -> Tensor:
        """uint8 (B, 1, H, W) -> logits (B, 256, H, W) of p(x_i | x_<i)."""
        h = self.conv_in(batch.to(self.conv_in.weight.dtype) / 127.5 - 1.0)  # (B, w, H, W)
        for layer in self.layers:
            h = h + layer(F.relu(h))  # (B, w, H, W)
        return self.head(h)  # (B, 256, H, W)

    def bits_per_dim(self, batch: Tensor) -> Tensor:
        """(B,) exact bits per dimension."""
        nll = F.cross_entropy(self(batch), batch[:, 0].long(), reduction="none")  # (B, H, W) nats
        return nll.flatten(1).mean(1) / math.log(2)

    def loss(self, batch: Tensor) -> Tensor:
        return self.bits_per_dim(batch).mean()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Raster-order ancestral sampling, one forward pass per pixel. uint8 (n, 1, H, W).
        Row i depends only on rows <= i, so each pass runs on the rows up to i."""
        S, device = self.config.image_size, next(self.parameters()).device
        x = torch.zeros(n, 1, S, S, dtype=torch.uint8, device=device)
        for i in range(S):
            for j in range(S):
                probs = torch.softmax(self(x[:, :, : i + 1])[:, :, i, j], dim=1).cpu()  # (n, 256)
                x[:, 0, i, j] = torch.multinomial(probs, 1, generator=generator).squeeze(1).to(device)
        return x
