"""MHSA calls a method named scaled_dot_product_attention (self.scaled_dot_product_attention), next to
`import torch.nn.functional as F` and `from torch import nn`: neither is delegation."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def scaled_dot_product_attention(q, k, v, mask=None):
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits.masked_fill(~mask.bool(), float("-inf"))
    return F.softmax(logits, dim=-1) @ v


def causal_mask(L: int) -> torch.Tensor:
    return torch.ones(L, L).tril().to(torch.bool)


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def scaled_dot_product_attention(self, q, k, v, mask=None):
        d = q.shape[-1]
        w = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(d)).masked_fill(~mask, -float("inf"))
                          if mask is not None else q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
        return w @ v

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B, L, _ = x.shape
        q, k, v = self.qkv(x).split(self.d_model, dim=-1)
        q, k, v = (t.view(B, L, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)
        out = self.scaled_dot_product_attention(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(B, L, self.d_model))
