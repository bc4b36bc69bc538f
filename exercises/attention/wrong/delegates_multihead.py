import math

import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def causal_mask(L):
    return torch.tril(torch.ones(L, L, dtype=torch.bool))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, D = x.shape
        attn = nn.MultiheadAttention(D, self.n_heads, batch_first=True)
        attn.in_proj_weight, attn.in_proj_bias = self.qkv.weight, self.qkv.bias
        attn.out_proj = self.proj
        attn_mask = None
        if mask is not None:  # nn.MultiheadAttention: True = may NOT attend, (B * H, L, L) per sequence
            attn_mask = ~mask if mask.dim() == 2 else (~mask).repeat_interleave(self.n_heads, dim=0)
        return attn(x, x, x, attn_mask=attn_mask, need_weights=False)[0]
