"""The flow-coupling exercise's reference functions (reference_models/flow.py) against
independent facts: invertibility, the autograd Jacobian, closed-form densities."""
import math

import torch
from torch import nn

from reference_models.flow import (
    affine_coupling_forward,
    affine_coupling_inverse,
    bits_per_dim,
    standard_normal_logprob,
)


def _net(d: int) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, 2 * d)).double()
    with torch.no_grad():
        net[-1].weight.mul_(4.0)  # log-scales of order 1, so tanh and exp matter
    return net


def test_inverse_undoes_forward_and_the_conditioning_dimensions_pass_through():
    net, mask = _net(5), torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    x = torch.randn(7, 5, dtype=torch.float64)
    y, _ = affine_coupling_forward(x, mask, net)
    assert torch.equal(y[:, mask == 1], x[:, mask == 1])
    assert not torch.allclose(y[:, mask == 0], x[:, mask == 0])
    assert torch.allclose(affine_coupling_inverse(y, mask, net), x, rtol=0, atol=1e-12)


def test_log_det_is_the_log_abs_det_of_the_jacobian():
    net, mask = _net(4), torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    x = torch.randn(3, 4, dtype=torch.float64)
    _, log_det = affine_coupling_forward(x, mask, net)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(lambda v: affine_coupling_forward(v[None], mask, net)[0][0], x[i])
        assert math.isclose(log_det[i].item(), torch.linalg.slogdet(jac)[1].item(), abs_tol=1e-12)


def test_standard_normal_logprob_matches_torch_distributions_over_all_dimensions():
    z = torch.randn(3, 2, 4, 5, dtype=torch.float64)
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum((1, 2, 3))
    assert torch.allclose(standard_normal_logprob(z), expected, rtol=1e-12, atol=0)


def test_bits_per_dim_of_a_uniform_density_is_log2_of_the_bins():
    """The uniform density on [0, 1]^D (log_px = 0) spreads mass evenly over the n_bins^D bins."""
    log_px = torch.zeros(2, dtype=torch.float64)
    assert torch.allclose(bits_per_dim(log_px, 784), torch.full((2,), 8.0, dtype=torch.float64))
    assert torch.allclose(bits_per_dim(log_px, 10, n_bins=32), torch.full((2,), 5.0, dtype=torch.float64))
    # a density e times higher everywhere is 1 / ln 2 bits cheaper in total
    higher = bits_per_dim(torch.tensor([10.0], dtype=torch.float64), 10)
    assert math.isclose(higher.item(), 8.0 - 1 / math.log(2), rel_tol=1e-12)
