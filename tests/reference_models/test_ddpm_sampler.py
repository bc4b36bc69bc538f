"""The ddpm-sampler reference against independent derivations: the diffusion module's coefficients,
the Bayes posterior of two Gaussians, DDIM's limits and the guidance convention."""
from __future__ import annotations

import torch

from reference_models import ddpm
from reference_models import ddpm_sampler as ref

T = 1000
BETAS = ddpm.linear_beta_schedule(T)
ABAR = ddpm.alphas_cumprod(BETAS)


def _inputs(B: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x0, xt = torch.randn(B, 3, 2, 2, generator=g, dtype=torch.float64), torch.randn(B, 3, 2, 2, generator=g,
                                                                                   dtype=torch.float64)
    t = torch.tensor([0, 1, 2, 500, 998, 999][:B])
    return x0, xt, t


def test_posterior_matches_the_diffusion_coefficients():
    x0, xt, t = _inputs()
    diffusion = ddpm.GaussianDiffusion(BETAS)
    mean, variance = ref.q_posterior_mean_variance(x0, xt, t, BETAS, ABAR)
    view = (-1, 1, 1, 1)
    expected = diffusion.posterior_mean_coef1[t].view(view) * x0 + diffusion.posterior_mean_coef2[t].view(view) * xt
    torch.testing.assert_close(mean, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(variance, diffusion.posterior_variance[t].view(view).expand_as(xt))
    assert variance.shape == xt.shape and float(variance[0].abs().max()) == 0.0  # t = 0: no variance


def test_posterior_is_the_product_of_two_gaussians():
    x0, xt, t = _inputs()
    t = t[1:]
    x0, xt = x0[1:], xt[1:]
    view = (-1, 1, 1, 1)
    prior_mean, prior_var = ABAR[t - 1].sqrt().view(view) * x0, (1 - ABAR[t - 1]).view(view)
    alpha, beta = (1 - BETAS[t]).view(view), BETAS[t].view(view)
    precision = 1 / prior_var + alpha / beta
    mean, variance = ref.q_posterior_mean_variance(x0, xt, t, BETAS, ABAR)
    torch.testing.assert_close(variance, (1 / precision).expand_as(xt), rtol=1e-9, atol=0)
    torch.testing.assert_close(mean, (prior_mean / prior_var + alpha.sqrt() * xt / beta) / precision, rtol=1e-9,
                               atol=1e-12)


def test_x0_round_trips_through_the_forward_process():
    x0, _, t = _inputs()
    noise = torch.randn_like(x0)
    xt = ddpm.q_sample(x0, t, noise, ABAR)
    torch.testing.assert_close(ref.predict_x0_from_eps(xt, t, noise, ABAR), x0, rtol=1e-9, atol=1e-9)


def _model(eps):
    return lambda x, t: eps


def test_p_sample_adds_no_noise_at_t0_and_posterior_noise_elsewhere():
    x0, xt, t = _inputs()
    eps, noise = torch.randn_like(xt), torch.randn_like(xt)
    out = ref.p_sample(_model(eps), xt, t, BETAS, ABAR, noise)
    x0_hat = ref.predict_x0_from_eps(xt, t, eps, ABAR)
    mean, variance = ref.q_posterior_mean_variance(x0_hat, xt, t, BETAS, ABAR)
    torch.testing.assert_close(out[0], x0_hat[0])  # t = 0: the mean, which is x0_hat
    torch.testing.assert_close(out[1:], (mean + variance.sqrt() * noise)[1:])


def test_ddim_limits():
    _, xt, t = _inputs()
    t = t[1:]
    xt = xt[1:]
    eps, noise = torch.randn_like(xt), torch.randn_like(xt)
    model = _model(eps)
    # eta = 1, one step back: the DDPM step
    torch.testing.assert_close(ref.ddim_step(model, xt, t, t - 1, ABAR, 1.0, noise),
                               ref.p_sample(model, xt, t, BETAS, ABAR, noise), rtol=1e-7, atol=1e-9)
    # eta = 0: deterministic, noise ignored; t_prev = -1 returns x0_hat
    minus_one = torch.full_like(t, -1)
    torch.testing.assert_close(ref.ddim_step(model, xt, t, minus_one, ABAR),
                               ref.predict_x0_from_eps(xt, t, eps, ABAR))
    assert torch.equal(ref.ddim_step(model, xt, t, t - 3, ABAR, 0.0, noise), ref.ddim_step(model, xt, t, t - 3, ABAR))


def test_guidance_scales():
    c, u = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(ref.classifier_free_guidance(c, u, 1.0), c)
    assert torch.equal(ref.classifier_free_guidance(c, u, 0.0), u)
    torch.testing.assert_close(ref.classifier_free_guidance(c, u, 3.0), 3 * c - 2 * u)


def test_float32_data_with_a_float64_schedule_stays_float32():
    x0, xt, t = (v.float() if v.is_floating_point() else v for v in _inputs())
    mean, variance = ref.q_posterior_mean_variance(x0, xt, t, BETAS, ABAR)
    assert mean.dtype == variance.dtype == torch.float32
    assert ref.predict_x0_from_eps(xt, t, xt, ABAR.float()).dtype == torch.float32
