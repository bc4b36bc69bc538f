"""Everything after the net computed in float64 and cast back; the density with einsum."""
import math

import torch


def _st(v, mask, net):
    s_raw, t = net(v * mask).double().chunk(2, dim=-1)
    keep = mask.double()
    return torch.tanh(s_raw) * (1 - keep), t * (1 - keep)


def affine_coupling_forward(x, mask, net):
    s, t = _st(x, mask, net)
    y = x.double() * s.exp() + t
    return y.to(x.dtype), s.sum(-1).to(x.dtype)


def affine_coupling_inverse(y, mask, net):
    s, t = _st(y, mask, net)
    return ((y.double() - t) * (-s).exp()).to(y.dtype)


def standard_normal_logprob(z):
    flat = z.reshape(len(z), -1).double()
    sq = torch.einsum("bd,bd->b", flat, flat)
    return (-0.5 * sq - 0.5 * flat.shape[1] * math.log(2 * math.pi)).to(z.dtype)


def bits_per_dim(log_px, num_dims, n_bins=256):
    total_bits = (num_dims * math.log(n_bins) - log_px.double()) / math.log(2)
    return (total_bits / num_dims).to(log_px.dtype)
