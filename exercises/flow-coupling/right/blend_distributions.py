"""The blend form y = m * x + (1 - m) * (x * exp(s) + t), masking only where it matters, and
torch.distributions for the density."""
import math

import torch
from torch.distributions import Normal


def _scale_shift(v, mask, net):
    out = net(v * mask)
    d = v.shape[-1]
    return torch.tanh(out[:, :d]), out[:, d:]


def affine_coupling_forward(x, mask, net):
    s, t = _scale_shift(x, mask, net)
    y = mask * x + (1 - mask) * (x * torch.exp(s) + t)
    log_det = ((1 - mask) * s).sum(-1)
    return y, log_det


def affine_coupling_inverse(y, mask, net):
    s, t = _scale_shift(y, mask, net)
    return mask * y + (1 - mask) * ((y - t) / torch.exp(s))


def standard_normal_logprob(z):
    normal = Normal(torch.zeros((), dtype=z.dtype), torch.ones((), dtype=z.dtype))
    return normal.log_prob(z).flatten(start_dim=1).sum(-1)


def bits_per_dim(log_px, num_dims, n_bins=256):
    return -log_px / (num_dims * math.log(2)) + math.log2(n_bins)
