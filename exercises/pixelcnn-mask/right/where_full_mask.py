"""A full (out, in, k, k) mask built with loops, torch.where in forward, the NLL from log_softmax."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_conv_mask(kernel_size, mask_type):
    if kernel_size % 2 != 1 or mask_type not in ["A", "B"]:
        raise ValueError("need an odd kernel_size and mask_type 'A' or 'B'")
    mask = torch.zeros(kernel_size, kernel_size, dtype=torch.float32)
    centre = kernel_size // 2
    for r in range(kernel_size):
        for c in range(kernel_size):
            if r < centre or (r == centre and c < centre) or (r == centre and c == centre and mask_type == "B"):
                mask[r, c] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size):
        super().__init__(in_channels, out_channels, kernel_size, stride=1, padding=kernel_size // 2, bias=True)
        full = causal_conv_mask(kernel_size, mask_type).repeat(out_channels, in_channels, 1, 1)
        self.register_buffer("weight_mask", full.bool())

    def forward(self, x):
        w = torch.where(self.weight_mask, self.weight, torch.zeros_like(self.weight))
        return self._conv_forward(x, w, self.bias)


def pixel_nll_bits_per_dim(logits, x):
    log_probs = F.log_softmax(logits, dim=1)
    picked = log_probs.gather(1, x.unsqueeze(1)).squeeze(1)  # (B, C, H, W)
    return -picked.mean() / math.log(2)  # the mean over every sub-pixel of the batch is the same number
