"""A loop over heads: each head is a slice of the features, attended with the student's own function;
heads concatenated along the features (the same as transpose + reshape)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)
    scores = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(torch.logical_not(mask), float("-inf"))
    attn = F.softmax(scores, dim=-1)
    return attn @ v


def causal_mask(L):
    return torch.tril(torch.ones(L, L, dtype=torch.bool))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        d_head = self.d_model // self.n_heads
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        heads = []
        for h in range(self.n_heads):
            cols = slice(h * d_head, (h + 1) * d_head)
            # (B, L, d_head) per head; a (L, L) or (B, L, L) mask broadcasts against (B, L, L) scores
            heads.append(scaled_dot_product_attention(q[..., cols], k[..., cols], v[..., cols], mask))
        return self.proj(torch.cat(heads, dim=-1))
