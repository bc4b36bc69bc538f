import math

import torch
from helpers_rm import digits_batches

from reference_models.gan import DCGAN, DCGANConfig
from reference_models.training import train


def test_dcgan_trains_through_the_contract_step_and_samples():
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig(image_size=8, z_dim=8, width=8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log, _ = train(model, digits_batches(), steps=30)
    assert set(log[0]) == {"step", "d_loss", "g_loss"}
    assert all(torch.isfinite(torch.tensor([r["d_loss"], r["g_loss"]])).all() for r in log)
    # the discriminator learns to separate real from fake early on: its loss falls below log 4
    d_first, d_last = (sum(r["d_loss"] for r in rows) / 3 for rows in (log[:3], log[-3:]))
    assert d_last < min(d_first - 0.15, math.log(4))
    assert not torch.equal(before["G.net.0.weight"], model.G.net[0].weight)
    assert not torch.equal(before["D.net.0.weight"], model.D.net[0].weight)
    g = torch.Generator().manual_seed(3)
    x = model.sample(6, generator=g)
    assert x.shape == (6, 1, 8, 8) and x.dtype == torch.uint8
    assert torch.equal(x, model.sample(6, generator=torch.Generator().manual_seed(3)))


def test_generator_output_is_fashion_sized():
    model = DCGAN(DCGANConfig(z_dim=4, width=4))
    assert model.G(torch.randn(3, 4)).shape == (3, 1, 28, 28)
    assert model.D(torch.randn(3, 1, 28, 28)).shape == (3,)
