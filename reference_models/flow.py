"""RealNVP (Dinh, Sohl-Dickstein & Bengio, 2017): affine coupling layers with
checkerboard and channel masks, exact log-likelihood by change of variables.

The functions are the flow-coupling exercise's contract on flat (B, D) data with a given
conditioner `net` (exercise-contracts.md, section 6). `RealNVP` is the image model of
reference_models/flow_nets.py with these functions as its coupling algebra and density.
"""
from __future__ import annotations

import math
import sys

import torch
from torch import Tensor

from reference_models import flow_nets
from reference_models.flow_nets import AffineCoupling, RealNVPConfig, channel_mask, checkerboard, squeeze, unsqueeze


def _coupling_s_t(v: Tensor, mask: Tensor, net) -> tuple[Tensor, Tensor]:
    """s, t of an affine coupling from the conditioning half v * mask; both 0 where mask == 1."""
    s_raw, t = net(v * mask).chunk(2, dim=-1)
    return torch.tanh(s_raw) * (1 - mask), t * (1 - mask)


def affine_coupling_forward(x: Tensor, mask: Tensor, net) -> tuple[Tensor, Tensor]:
    """y = x * exp(s) + t with s, t from net(x * mask); mask 1 = passed through. Returns y (B, D) and
    log|det dy/dx| = sum of s (B,): the Jacobian is triangular up to a permutation (Dinh et al. 2017, eq. 6)."""
    s, t = _coupling_s_t(x, mask, net)
    return x * torch.exp(s) + t, s.sum(-1)


def affine_coupling_inverse(y: Tensor, mask: Tensor, net) -> Tensor:
    """x = (y - t) * exp(-s); y * mask == x * mask, so s and t are recomputed from y (Dinh et al. 2017, eq. 8)."""
    s, t = _coupling_s_t(y, mask, net)
    return (y - t) * torch.exp(-s)


def standard_normal_logprob(z: Tensor) -> Tensor:
    """log N(z; 0, I) of each row, summed over every non-batch dimension: (B, ...) -> (B,)."""
    return (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).flatten(1).sum(1)


def bits_per_dim(log_px: Tensor, num_dims: int, n_bins: int = 256) -> Tensor:
    """Bits/dim of data with n_bins levels scaled to [0, 1] and uniformly dequantised, from the density
    log_px (nats) on [0, 1]^num_dims: the discrete probability of a bin is at most density * n_bins^-D."""
    return (-log_px + num_dims * math.log(n_bins)) / (num_dims * math.log(2))


class RealNVP(flow_nets.RealNVP):
    """The reference RealNVP: flow_nets' architecture with this module's contract functions."""

    def __init__(self, config: RealNVPConfig):
        super().__init__(config, ops=sys.modules[__name__])


def reference_coupling(channels: int, width: int, mask: Tensor) -> AffineCoupling:
    """One coupling layer of the image model with the reference algebra."""
    return AffineCoupling(channels, width, mask, ops=sys.modules[__name__])


__all__ = ["RealNVP", "RealNVPConfig", "affine_coupling_forward", "affine_coupling_inverse", "bits_per_dim",
           "channel_mask", "checkerboard", "reference_coupling", "squeeze", "standard_normal_logprob", "unsqueeze"]
