"""Softmax written by hand with the max subtraction; the max is taken after masking."""
import math

import torch
from torch import nn


def softmax(x, dim=-1):
    x = x - x.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    return torch.matmul(softmax(scores, dim=-1), v)


def causal_mask(L):
    mask = torch.zeros(L, L, dtype=torch.bool)
    for i in range(L):
        mask[i, : i + 1] = True
    return mask


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        dh = self.d_model // self.n_heads
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        q = q.view(B, L, self.n_heads, dh).transpose(1, 2)
        k = k.view(B, L, self.n_heads, dh).transpose(1, 2)
        v = v.view(B, L, self.n_heads, dh).transpose(1, 2)
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)
        y = scaled_dot_product_attention(q, k, v, mask)
        y = y.transpose(1, 2).contiguous().view(B, L, self.d_model)
        return self.proj(y)
