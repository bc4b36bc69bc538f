"""masked_fill with torch.finfo(dtype).min; the scale applied to q before the product."""
import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    q = q / math.sqrt(q.size(-1))
    scores = torch.matmul(q, k.mT)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, torch.finfo(scores.dtype).min)
    return torch.matmul(scores.softmax(-1), v)


def causal_mask(L):
    return torch.ones((L, L), dtype=torch.bool).tril(diagonal=0)


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.h = n_heads
        self.dk = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, d_model = x.shape
        q, k, v = self.qkv(x).split(d_model, dim=-1)
        q = q.view(B, L, self.h, self.dk).transpose(1, 2)
        k = k.view(B, L, self.h, self.dk).transpose(1, 2)
        v = v.view(B, L, self.h, self.dk).transpose(1, 2)
        if mask is not None:
            if mask.dim() == 2:
                mask = mask.expand(B, L, L)  # (L, L) -> (B, L, L) first
            mask = mask.unsqueeze(1)  # then (B, 1, L, L) for every head
        out = scaled_dot_product_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, L, d_model))
