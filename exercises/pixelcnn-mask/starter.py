"""Masked convolutions (PixelCNN, van den Oord et al. 2016) and the NLL in bits/dim.

Implement `causal_conv_mask`, `MaskedConv2d` and `pixel_nll_bits_per_dim` below.
Read statement.md for the maths and what is checked. Any torch function may be used.
"""
import math  # noqa: F401  (math.log)

import torch
import torch.nn.functional as F  # noqa: F401  (F.conv2d, F.cross_entropy)
from torch import Tensor, nn


def causal_conv_mask(kernel_size: int, mask_type: str) -> Tensor:
    """(kernel_size, kernel_size) float32 mask of 0s and 1s.

    1 on every row above the centre row, and on the centre row left of the centre;
    the centre itself is 1 for mask_type "B" and 0 for "A"; 0 elsewhere.
    kernel_size is odd; mask_type is "A" or "B" (case-sensitive; anything else, or
    an even kernel_size: ValueError).
    """
    raise NotImplementedError("write causal_conv_mask")


class MaskedConv2d(nn.Conv2d):
    """A convolution whose output pixel (i, j) sees only input pixels before (i, j)
    in raster order (and (i, j) itself for type "B"), in every channel.

    Stride 1, dilation 1, groups 1, zero padding kernel_size // 2, bias=True. An
    even kernel_size or a mask_type other than "A"/"B" raises ValueError.
    forward(x) is the convolution with weight * causal_conv_mask(kernel_size, mask_type):
    the same (k, k) mask for every (out, in) channel pair. `weight` and `bias` stay
    Conv2d's ordinary Parameters (the grader may write new values into them between
    forwards); keep the mask as a buffer, and never modify self.weight in forward.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        raise NotImplementedError("write MaskedConv2d.__init__ (call super().__init__ and register the mask)")

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError("write MaskedConv2d.forward")


def pixel_nll_bits_per_dim(logits: Tensor, x: Tensor) -> Tensor:
    """Negative log-likelihood of images in bits per (sub-)pixel.

    logits: (B, 256, C, H, W), a categorical distribution over each pixel's value;
    x: (B, C, H, W) int64 in 0..255. The mean over the batch of each image's summed
    cross-entropy divided by (C * H * W * ln 2). 0-dim, differentiable in logits;
    finite and exact for logits in [-100, 100].
    """
    raise NotImplementedError("write pixel_nll_bits_per_dim")


if __name__ == "__main__":
    # A small self-test: the masks, and that output pixel (2, 2) of a type-A layer ignores (2, 2) and later.
    print(causal_conv_mask(3, "A"))
    print(causal_conv_mask(5, "B"))
    torch.manual_seed(0)
    layer = MaskedConv2d("A", 3, 4, 5)
    x = torch.randn(1, 3, 5, 5, requires_grad=True)
    layer(x)[0, :, 2, 2].sum().backward()
    print("input pixels that output (2, 2) sees:")
    print((x.grad[0].abs().sum(0) > 0).int())
    logits = torch.zeros(2, 256, 3, 4, 4)
    print("uniform logits cost 8 bits:", pixel_nll_bits_per_dim(logits, torch.randint(0, 256, (2, 3, 4, 4))).item())
