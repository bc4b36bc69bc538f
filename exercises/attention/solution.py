import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # subtracts the row max internally
    return weights @ v


def causal_mask(L):
    return torch.tril(torch.ones(L, L, dtype=torch.bool))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0
        self.d_model = d_model
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        d_head = self.d_model // self.n_heads
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        q = q.view(B, L, self.n_heads, d_head).transpose(1, 2)
        k = k.view(B, L, self.n_heads, d_head).transpose(1, 2)
        v = v.view(B, L, self.n_heads, d_head).transpose(1, 2)
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, 1, L, L): the same mask for every head
        out = scaled_dot_product_attention(q, k, v, mask)  # (B, H, L, d_head)
        out = out.transpose(1, 2).reshape(B, L, self.d_model)
        return self.proj(out)
