"""Zeroes the masked weights at construction as well (harmless) and still masks in every forward;
the NLL from logsumexp by hand, in float64."""
import math

import torch
from torch import nn


def causal_conv_mask(kernel_size, mask_type):
    if not (isinstance(kernel_size, int) and kernel_size % 2 == 1):
        raise ValueError("kernel_size must be odd")
    if mask_type != "A" and mask_type != "B":
        raise ValueError("mask_type must be 'A' or 'B'")
    k = kernel_size
    mask = torch.cat([torch.ones(k // 2, k), torch.zeros(k - k // 2, k)])
    mask[k // 2, : k // 2] = 1
    mask[k // 2, k // 2] = 1 if mask_type == "B" else 0
    return mask


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size):
        mask = causal_conv_mask(kernel_size, mask_type)
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.register_buffer("mask", mask)
        with torch.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, x):
        return super()._conv_forward(x, self.weight * self.mask, self.bias)


def pixel_nll_bits_per_dim(logits, x):
    l64 = logits.double()
    log_z = torch.logsumexp(l64, dim=1)  # (B, C, H, W)
    target = torch.gather(l64, 1, x[:, None]).squeeze(1)
    bits = (log_z - target).reshape(x.shape[0], -1).mean(dim=1) / math.log(2)
    return bits.mean().to(logits.dtype)
