"""einsum for both products; masked_fill with float('-inf'); module-level helper called by MHSA."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * q.shape[-1] ** -0.5
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    return torch.einsum("...qk,...kv->...qv", F.softmax(scores, dim=-1), v)


def causal_mask(L):
    i = torch.arange(L)
    return i[:, None] >= i[None, :]


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        B, L, D = x.shape
        h = self.n_heads
        q, k, v = [t.view(B, L, h, D // h).transpose(1, 2) for t in self.qkv(x).split(D, dim=-1)]
        if mask is not None and mask.ndim == 3:
            mask = mask[:, None, :, :]
        y = scaled_dot_product_attention(q, k, v, mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, L, D))
