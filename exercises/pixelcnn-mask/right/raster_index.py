"""The mask from raster indices, a mask of the weight's dtype, and torch.distributions for the NLL."""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical


def causal_conv_mask(kernel_size: int, mask_type: str) -> torch.Tensor:
    if mask_type not in {"A", "B"}:
        raise ValueError(mask_type)
    if kernel_size % 2 == 0:
        raise ValueError(kernel_size)
    index = torch.arange(kernel_size * kernel_size).view(kernel_size, kernel_size)
    centre = (kernel_size * kernel_size) // 2
    visible = index < centre if mask_type == "A" else index <= centre
    return visible.float()


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.register_buffer("mask", causal_conv_mask(kernel_size, mask_type)[None, None])

    def forward(self, x):
        masked = self.weight * self.mask.to(self.weight.dtype)
        return F.conv2d(x, masked, self.bias, stride=1, padding=self.kernel_size[0] // 2)


def pixel_nll_bits_per_dim(logits, x):
    dist = Categorical(logits=logits.movedim(1, -1))  # (B, C, H, W) of 256-way categoricals
    nats = -dist.log_prob(x).sum(dim=(1, 2, 3))
    return (nats * math.log2(math.e) / x[0].numel()).mean()
