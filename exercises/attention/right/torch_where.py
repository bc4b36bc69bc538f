"""torch.where with -inf; scale on both q and k (d ** -0.25 each); MHSA inline (no call to the function)."""
import torch
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    s = q.shape[-1] ** -0.25
    scores = (q * s) @ (k * s).transpose(-1, -2)
    if mask is not None:
        scores = torch.where(mask, scores, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def causal_mask(L):
    return ~torch.ones(L, L, dtype=torch.bool).triu(1)


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        H, dh = self.n_heads, self.d_model // self.n_heads
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        q, k, v = (t.view(B, L, H, dh).transpose(1, 2) for t in (q, k, v))
        att = q @ k.transpose(-2, -1) / dh ** 0.5
        if mask is not None:
            m = mask.unsqueeze(1) if mask.dim() == 3 else mask
            att = torch.where(m, att, torch.full_like(att, float("-inf")))
        att = att.softmax(dim=-1)
        out = (att @ v).transpose(1, 2).reshape(B, L, self.d_model)
        return self.proj(out)
