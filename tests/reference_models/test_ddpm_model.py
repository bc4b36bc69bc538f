import torch
from helpers_rm import losses_fall

from reference_models.ddpm import DDPM, DDPMConfig, GaussianDiffusion, linear_beta_schedule, q_sample
from reference_models.unet import UNet, UNetConfig


def test_ddpm_simple_loss_falls_and_both_samplers_give_images():
    torch.manual_seed(0)
    model = DDPM(DDPMConfig(image_size=8, timesteps=50, width=8, channel_mult=(1, 2), lr=2e-3))
    first, last = losses_fall(model, steps=40)
    assert last < 0.7 * first
    for sampler, kwargs in (("ddpm", {}), ("ddim", {"steps": 10})):
        x = model.sample(4, generator=torch.Generator().manual_seed(0), sampler=sampler, **kwargs)
        assert x.shape == (4, 1, 8, 8) and x.dtype == torch.uint8


def test_ddim_with_eta_zero_is_deterministic_given_the_initial_noise():
    model = DDPM(DDPMConfig(image_size=8, timesteps=20, schedule="cosine", width=8, channel_mult=(1, 2)))
    assert model.diffusion.betas.dtype == torch.float64 and model.diffusion.betas.max() <= 0.999
    a = model.sample(2, generator=torch.Generator().manual_seed(5), sampler="ddim", steps=5)
    b = model.sample(2, generator=torch.Generator().manual_seed(5), sampler="ddim", steps=5)
    assert torch.equal(a, b)


def test_posterior_matches_bayes_rule_in_float64():
    """q(x_{t-1} | x_t, x_0) mean/variance from the coefficients equal the Gaussian
    conditioning of q(x_{t-1} | x_0) on x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps."""
    d = GaussianDiffusion(linear_beta_schedule(100))
    t = 37
    abar_prev, beta = d.alphas_cumprod[t - 1], d.betas[t]
    prior_var = 1 - abar_prev
    var = 1 / (1 / prior_var + (1 - beta) / beta)
    assert torch.isclose(d.posterior_variance[t], var, rtol=1e-12)
    x0, xt = torch.tensor(0.3, dtype=torch.float64), torch.tensor(-0.7, dtype=torch.float64)
    mean = var * (abar_prev.sqrt() * x0 / prior_var + (1 - beta).sqrt() * xt / beta)
    assert torch.isclose(d.posterior_mean_coef1[t] * x0 + d.posterior_mean_coef2[t] * xt, mean, rtol=1e-12)
    assert d.posterior_variance.dtype == torch.float64


def test_perfect_noise_prediction_recovers_x0():
    d = GaussianDiffusion(linear_beta_schedule(100))
    x0 = torch.rand(3, 1, 4, 4, dtype=torch.float64) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([0, 50, 99])
    xt = q_sample(x0, t, noise, d.alphas_cumprod)
    assert torch.allclose(d.predict_xstart_from_eps(xt, t, noise), x0, atol=1e-9)


def test_unet_keeps_the_shape_for_28_and_8_pixel_images():
    net = UNet(UNetConfig(width=8))
    for size in (28, 8):
        x = torch.randn(2, 1, size, size)
        assert net(x, torch.tensor([0, 999])).shape == x.shape
