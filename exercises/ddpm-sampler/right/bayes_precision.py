"""The posterior as a product of Gaussians (precision form); DDIM written with the predicted x0 and the
direction pointing to x_t; guidance with torch.lerp."""
import torch


def _b(v, t, x):
    return v.to(device=x.device)[t].to(x.dtype).reshape((x.shape[0],) + (1,) * (x.dim() - 1))


def q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod):
    beta = _b(betas, t, xt)
    abar = _b(alphas_cumprod, t, xt)
    prev_all = torch.nn.functional.pad(alphas_cumprod, (1, 0), value=1.0)[:-1]
    abar_prev = _b(prev_all, t, xt)
    alpha = 1.0 - beta
    # beta-tilde and mu-tilde of Ho et al. eq. 7, written with the common denominator 1 - abar
    denom = 1.0 - abar
    variance = beta * (1.0 - abar_prev) / denom
    mean = (torch.sqrt(abar_prev) * beta * x0 + torch.sqrt(alpha) * (1.0 - abar_prev) * xt) / denom
    return mean, variance.expand_as(xt).clone()


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    abar = _b(alphas_cumprod, t, xt)
    return xt / abar.sqrt() - eps * ((1 - abar) / abar).sqrt()


def p_sample(model, xt, t, betas, alphas_cumprod, noise):
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    mean, variance = q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod)
    std = variance.sqrt().masked_fill((t == 0).reshape((-1,) + (1,) * (xt.dim() - 1)), 0.0)
    return mean + std * noise


def ddim_step(model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    abar = _b(alphas_cumprod, t, xt)
    abar_prev = _b(alphas_cumprod, t_prev.clamp(min=0), xt)
    abar_prev = torch.where(_b(t_prev.to(xt.dtype), torch.arange(len(t_prev)), xt) < 0,
                            torch.ones_like(abar_prev), abar_prev)
    var = (1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)
    sigma = eta * var.sqrt()
    direction = torch.sqrt(torch.relu(1 - abar_prev - sigma * sigma)) * eps
    if eta == 0:
        return abar_prev.sqrt() * x0 + direction
    return abar_prev.sqrt() * x0 + direction + sigma * noise


def classifier_free_guidance(eps_cond, eps_uncond, guidance_scale):
    return torch.lerp(eps_uncond, eps_cond, guidance_scale)
