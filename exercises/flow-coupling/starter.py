"""An affine coupling layer (RealNVP, Dinh et al. 2017) and the bits/dim of a flow.

Implement the four functions below. Read statement.md for the maths and what is
checked. Any torch function may be used.
"""
import math  # noqa: F401  (math.log, math.pi)

import torch  # noqa: F401
from torch import Tensor


def affine_coupling_forward(x: Tensor, mask: Tensor, net) -> tuple[Tensor, Tensor]:
    """The coupling's forward map and its log-determinant.

    x: (B, D); mask: (D,) float of 0s and 1s, 1 = a conditioning dimension
    (passed through unchanged); net: callable (B, D) -> (B, 2 * D).
    s_raw, t = net(x * mask).chunk(2, dim=-1); s = tanh(s_raw) * (1 - mask);
    t = t * (1 - mask); y = x * exp(s) + t.
    Returns (y, log_det) with log_det (B,) = log |det dy/dx| = s.sum(-1).
    """
    raise NotImplementedError("write affine_coupling_forward")


def affine_coupling_inverse(y: Tensor, mask: Tensor, net) -> Tensor:
    """The exact inverse of affine_coupling_forward for the same mask and net:
    s and t come from net(y * mask) (y * mask == x * mask); x = (y - t) * exp(-s).
    """
    raise NotImplementedError("write affine_coupling_inverse")


def standard_normal_logprob(z: Tensor) -> Tensor:
    """log N(z; 0, I) per row, summed over all non-batch dimensions.

    z: (B, ...) with at least one non-batch dimension -> (B,).
    """
    raise NotImplementedError("write standard_normal_logprob")


def bits_per_dim(log_px: Tensor, num_dims: int, n_bins: int = 256) -> Tensor:
    """Negative log-likelihood in bits per dimension.

    The data has n_bins levels per dimension, scaled to [0, 1] and uniformly
    dequantised: log_px is the natural-log density of y = (x + u) / n_bins on
    [0, 1]^num_dims. Returns (-log_px + num_dims * ln(n_bins)) / (num_dims * ln 2).
    log_px: (B,) -> (B,), same dtype.
    """
    raise NotImplementedError("write bits_per_dim")


if __name__ == "__main__":
    # A small self-test: the inverse undoes the forward map, log_det matches the Jacobian.
    torch.manual_seed(0)
    D = 4
    net = torch.nn.Sequential(torch.nn.Linear(D, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2 * D))
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    x = torch.randn(3, D)
    y, log_det = affine_coupling_forward(x, mask, net)
    print("invertible", torch.allclose(affine_coupling_inverse(y, mask, net), x, atol=1e-5))
    jac = torch.autograd.functional.jacobian(lambda v: affine_coupling_forward(v[None], mask, net)[0][0], x[0])
    print("log_det", log_det[0].item(), "vs slogdet", torch.linalg.slogdet(jac)[1].item())
    print("bits/dim of the uniform density (expect 8)", bits_per_dim(torch.zeros(2), 784))
