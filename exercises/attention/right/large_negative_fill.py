"""A finite but large fill (-1e9) via an additive float mask: at logits of ±1e4 it still weighs exactly 0."""
import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + (1.0 - mask.to(scores.dtype)) * -1e9
    scores = scores - scores.max(dim=-1, keepdim=True).values
    w = scores.exp()
    return (w / w.sum(dim=-1, keepdim=True)) @ v


def causal_mask(L):
    return torch.tril(torch.ones(L, L, dtype=torch.bool))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        H = self.n_heads
        qkv = self.qkv(x)
        q, k, v = qkv[..., :self.d_model], qkv[..., self.d_model:2 * self.d_model], qkv[..., 2 * self.d_model:]
        q, k, v = (t.view(B, L, H, -1).transpose(1, 2) for t in (q, k, v))
        if mask is not None:
            mask = mask.view(B, 1, L, L) if mask.dim() == 3 else mask.view(1, 1, L, L)
        out = scaled_dot_product_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, L, self.d_model))
