"""An additive mask (0 / -inf) added to the logits; tensor-valued scale."""
import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    d = torch.tensor(q.shape[-1], dtype=q.dtype, device=q.device)
    scores = q @ k.transpose(-2, -1) / torch.sqrt(d)
    if mask is not None:
        bias = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device)
        bias = bias.masked_fill(~mask, float("-inf"))
        scores = scores + bias
    return torch.softmax(scores, dim=-1) @ v


def causal_mask(L):
    return torch.tril(torch.ones(L, L)).bool()


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def split_heads(self, t):
        B, L, D = t.shape
        return t.view(B, L, self.n_heads, D // self.n_heads).transpose(1, 2)

    def forward(self, x, mask=None):
        B, L, D = x.shape
        q, k, v = map(self.split_heads, self.qkv(x).split(D, dim=-1))
        if mask is not None and mask.dim() == 3:
            mask = mask.view(B, 1, L, L)
        out = scaled_dot_product_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, L, D))
