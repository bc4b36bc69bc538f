"""PixelCNN's architecture (van den Oord, Kalchbrenner & Kavukcuoglu, 2016) without the masks.

p(x) = prod_i p(x_i | x_<i) in raster order, each a 256-way categorical, so the log-likelihood
is exact: bits/dim = cross-entropy / log 2. Single-channel images; a type-A masked convolution
hides the centre pixel (first layer), type-B layers let later layers see it. This plain stack has
the known blind spot that the gated PixelCNN (van den Oord et al., 2016b) fixes; it is kept for
clarity.

The masked convolution class is a parameter: `reference_models.pixelcnn` passes its own, the
pixelcnn-train scaffold the student's, so this file can be shipped into a grading sandbox.
Imports only torch and reference_models.training.
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


class PixelCNN(SingleLossModel):
    """`conv`: the masked convolution class, called as conv(mask_type, c_in, c_out, kernel_size).
    reference_models.pixelcnn passes its MaskedConv2d; pixelcnn-train's scaffold the student's, and the
    judge scores the same weights (`weight` and `bias` of each layer, never a mask buffer) with the reference."""

    def __init__(self, config: PixelCNNConfig, conv):
        super().__init__()
        self.config = c = config
        self.conv_in = conv("A", 1, c.width, 7)
        self.layers = nn.ModuleList(conv("B", c.width, c.width, 3) for _ in range(c.n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c.width, c.width, 1), nn.ReLU(), nn.Conv2d(c.width, 256, 1))

    def forward(self, batch: Tensor) -> Tensor:
        """uint8 (B, 1, H, W) -> logits (B, 256, H, W) of p(x_i | x_<i)."""
        h = self.conv_in(batch.to(self.conv_in.weight.dtype) / 127.5 - 1.0)  # (B, w, H, W)
        for layer in self.layers:
            h = h + layer(F.relu(h))  # (B, w, H, W)
        return self.head(h)  # (B, 256, H, W)

    def image_bits_per_dim(self, batch: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """(B,) exact bits per dimension (no dequantisation, so `generator` is unused: a flow's takes one)."""
        nll = F.cross_entropy(self(batch), batch[:, 0].long(), reduction="none")  # (B, H, W) nats
        return nll.flatten(1).mean(1) / math.log(2)

    def loss(self, batch: Tensor) -> Tensor:
        return self.image_bits_per_dim(batch).mean()

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
