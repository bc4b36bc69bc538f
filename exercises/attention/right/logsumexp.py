"""Weights as exp(logits - logsumexp(logits)); logits computed in float64 and cast back."""
import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = (q.double() @ k.double().transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True)).to(q.dtype)
    return weights @ v


def causal_mask(L):
    return torch.ones(L, L, dtype=torch.bool).tril()


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        q, k, v = (t.reshape(B, L, self.n_heads, -1).permute(0, 2, 1, 3) for t in (q, k, v))
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)
        out = scaled_dot_product_attention(q, k, v, mask)
        return self.proj(out.permute(0, 2, 1, 3).reshape(B, L, self.d_model))
