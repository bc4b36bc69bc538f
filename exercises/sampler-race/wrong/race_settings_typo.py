import torch

# "guidance" is not one of the race's settings (guidance_scale, eta, spacing).
RACE = {"guidance": 2.0}


def _get(values, t, x):
    """values[t] as (B, 1, ..., 1) in x's dtype and device."""
    out = values.to(x.device)[t.to(x.device)].to(x.dtype)
    return out.reshape(-1, *([1] * (x.dim() - 1)))


def q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod):
    beta = _get(betas, t, xt)
    abar = _get(alphas_cumprod, t, xt)
    abar_prev_all = torch.cat([torch.ones(1, dtype=alphas_cumprod.dtype, device=alphas_cumprod.device),
                               alphas_cumprod[:-1]])
    abar_prev = _get(abar_prev_all, t, xt)
    alpha = 1 - beta
    mean = beta * abar_prev.sqrt() / (1 - abar) * x0 + (1 - abar_prev) * alpha.sqrt() / (1 - abar) * xt
    variance = beta * (1 - abar_prev) / (1 - abar)
    return mean, variance.expand_as(xt)


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    abar = _get(alphas_cumprod, t, xt)
    return (xt - (1 - abar).sqrt() * eps) / abar.sqrt()


def p_sample(model, xt, t, betas, alphas_cumprod, noise):
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    mean, variance = q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod)
    nonzero = (t != 0).to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))
    return mean + nonzero * variance.sqrt() * noise


def ddim_step(model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    abar = _get(alphas_cumprod, t, xt)
    abar_prev = torch.where(t_prev.reshape(-1, *([1] * (xt.dim() - 1))) >= 0,
                            _get(alphas_cumprod, t_prev.clamp(min=0), xt), torch.ones_like(abar))
    sigma = eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()
    x_prev = abar_prev.sqrt() * x0 + (1 - abar_prev - sigma ** 2).clamp(min=0).sqrt() * eps
    if eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev


def classifier_free_guidance(eps_cond, eps_uncond, guidance_scale):
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)
