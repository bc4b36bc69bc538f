import math

import torch
from helpers_rm import losses_fall

from reference_models.flow import RealNVP, RealNVPConfig, checkerboard, reference_coupling, squeeze, unsqueeze


def test_realnvp_bits_per_dim_fall_and_stay_finite():
    torch.manual_seed(0)
    model = RealNVP(RealNVPConfig(image_size=8, width=16, n_couplings=2, lr=3e-3))
    first, last = losses_fall(model, steps=40)
    assert math.isfinite(last) and last < first
    x = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4, 1, 8, 8) and x.dtype == torch.uint8


def test_coupling_inverts_and_its_log_det_matches_the_jacobian():
    torch.manual_seed(0)
    layer = reference_coupling(1, 8, checkerboard(2, 2, 0))
    torch.nn.init.normal_(layer.net[-1].weight, std=0.5)  # away from the identity initialisation
    x = torch.randn(1, 1, 2, 2, dtype=torch.float64)
    layer.double()
    y, logdet = layer(x)
    assert torch.allclose(layer.inverse(y), x, atol=1e-12)
    jac = torch.autograd.functional.jacobian(lambda v: layer(v.view(1, 1, 2, 2))[0].flatten(), x.flatten())
    assert torch.isclose(logdet[0], torch.linalg.slogdet(jac)[1], atol=1e-10)


def test_squeeze_is_invertible():
    x = torch.randn(2, 1, 8, 8)
    assert squeeze(x).shape == (2, 4, 4, 4)
    assert torch.equal(unsqueeze(squeeze(x)), x)


def test_untrained_flow_density_integrates_to_about_8_bits_on_uniform_pixels():
    """An identity flow puts a logistic-like density on pixels; bits/dim is finite and near 8."""
    model = RealNVP(RealNVPConfig(image_size=8, width=4, n_couplings=1))
    bpd = model.image_bits_per_dim(torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8))
    assert torch.isfinite(bpd).all() and 6.0 < bpd.mean().item() < 10.0
