"""Scaled dot-product and multi-head self-attention.

Implement `scaled_dot_product_attention`, `causal_mask` and
`MultiHeadSelfAttention.forward` below. Read statement.md for the maths, the
exact layout of the heads and what is checked. Do not use
`torch.nn.functional.scaled_dot_product_attention` or `torch.nn.MultiheadAttention`.
"""
import math  # noqa: F401  (math.sqrt)

import torch
from torch import Tensor, nn


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """softmax(q @ k^T / sqrt(d)) @ v over the last two dimensions.

    q: (..., Lq, d), k: (..., Lk, d), v: (..., Lk, dv). mask: bool, broadcastable to
    (..., Lq, Lk), True where a query may attend to a key (no row is fully masked).
    Returns (..., Lq, dv). Must stay finite and correct (relative error <= 1e-3)
    when the scaled logits q @ k^T / sqrt(d) reach magnitudes of 1e4, positive or
    negative.
    """
    raise NotImplementedError("write scaled_dot_product_attention")


def causal_mask(L: int) -> Tensor:
    """(L, L) bool, True on and below the diagonal."""
    raise NotImplementedError("write causal_mask")


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with a fused qkv projection.

    forward(x: (B, L, d_model), mask=None) -> (B, L, d_model). mask is None, a bool
    (L, L) mask shared by the whole batch, or a bool (B, L, L) mask, one per
    sequence; either applies to every head (True = may attend).
    q, k, v = self.qkv(x).split(d_model, dim=-1); each is split into n_heads heads
    of size d_model // n_heads as .view(B, L, n_heads, d_head).transpose(1, 2);
    each head computes the same result as scaled_dot_product_attention (calling
    it or writing it inline are both fine); heads are merged back with
    .transpose(1, 2).reshape(B, L, d_model) and passed through self.proj.
    """

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be a multiple of n_heads"
        self.d_model = d_model
        self.n_heads = n_heads
        # Exactly these two layers and no other parameters: the grader loads its weights into them.
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        raise NotImplementedError("write MultiHeadSelfAttention.forward")


if __name__ == "__main__":
    # A small self-test. PyTorch's built-in may be used here, and only here, to compare with.
    from torch.nn.functional import scaled_dot_product_attention as builtin_sdpa

    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    mask = torch.rand(5, 7) < 0.7
    mask[:, 0] = True  # no fully masked row
    print("no mask  ", torch.allclose(scaled_dot_product_attention(q, k, v), builtin_sdpa(q, k, v), atol=1e-5))
    print("with mask", torch.allclose(scaled_dot_product_attention(q, k, v, mask),
                                      builtin_sdpa(q, k, v, attn_mask=mask), atol=1e-5))
    big = scaled_dot_product_attention(q * 1e3, k * 1e3, v)  # logits of order 1e5
    print("finite at huge logits", bool(torch.isfinite(big).all()))
    print(causal_mask(4))
    mha = MultiHeadSelfAttention(32, 4)
    x = torch.randn(2, 6, 32)
    y = mha(x, mask=causal_mask(6))
    print("MHSA output", tuple(y.shape), "(expect (2, 6, 32))")
    # causality: changing the last position must not change the outputs at earlier positions
    x2 = x.clone()
    x2[:, -1] += 1.0
    print("causal", torch.allclose(mha(x2, mask=causal_mask(6))[:, :-1], y[:, :-1], atol=1e-6))
