"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, 2016): masked convolutions
make p(x) = prod_i p(x_i | x_<i) in raster order, each a 256-way categorical.

`causal_conv_mask`, `MaskedConv2d` and `pixel_nll_bits_per_dim` are the pixelcnn-mask
exercise's contract (exercise-contracts.md, section 7): colour channels are not ordered, so one
(k, k) mask multiplies every (out, in) channel pair.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reference_models import pixelcnn_nets
from reference_models.pixelcnn_nets import PixelCNNConfig


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


class PixelCNN(pixelcnn_nets.PixelCNN):
    """The reference PixelCNN: pixelcnn_nets' architecture with this module's MaskedConv2d."""

    def __init__(self, config: PixelCNNConfig):
        super().__init__(config, conv=MaskedConv2d)


__all__ = ["MaskedConv2d", "PixelCNN", "PixelCNNConfig", "causal_conv_mask", "pixel_nll_bits_per_dim"]
