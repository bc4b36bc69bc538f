"""Scaled dot-product and multi-head self-attention (Vaswani et al., 2017)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """softmax(q k^T / sqrt(d)) v; mask True = may attend. (..., Lq, dv)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # max-subtracted internally, so stable
    return weights @ v


def causal_mask(L: int) -> Tensor:
    """(L, L) bool, True on and below the diagonal."""
    return torch.ones(L, L, dtype=torch.bool).tril()


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        assert d_model % n_heads == 0
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        B, L, _ = x.shape
        d_head = self.d_model // self.n_heads
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)  # 3 x (B, L, d_model)
        q, k, v = (t.view(B, L, self.n_heads, d_head).transpose(1, 2) for t in (q, k, v))  # (B, H, L, dh)
        if mask is not None and mask.dim() == 3:
            mask = mask[:, None]  # (B, 1, L, L): same mask for every head
        out = scaled_dot_product_attention(q, k, v, mask)  # (B, H, L, dh)
        return self.proj(out.transpose(1, 2).reshape(B, L, self.d_model))
