"""improved-diffusion style: coefficient tables computed once per call in float64, then gathered."""
import torch


def _extract(table, t, x):
    return table.to(x.device)[t.to(x.device)].to(x.dtype).view(t.shape[0], *([1] * (x.dim() - 1)))


def q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod):
    betas, abar = betas.double(), alphas_cumprod.double()
    abar_prev = torch.cat([abar.new_ones(1), abar[:-1]])
    coef1 = betas * abar_prev.sqrt() / (1.0 - abar)
    coef2 = (1.0 - abar_prev) * (1.0 - betas).sqrt() / (1.0 - abar)
    var = betas * (1.0 - abar_prev) / (1.0 - abar)
    mean = _extract(coef1, t, xt) * x0 + _extract(coef2, t, xt) * xt
    return mean, _extract(var, t, xt).expand(*xt.shape)


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    abar = alphas_cumprod.double()
    return _extract((1.0 / abar).sqrt(), t, xt) * xt - _extract((1.0 / abar - 1.0).sqrt(), t, xt) * eps


def p_sample(model, xt, t, betas, alphas_cumprod, noise):
    x0 = predict_x0_from_eps(xt, t, model(xt, t), alphas_cumprod)
    mean, var = q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod)
    return torch.where((t == 0).view(-1, *([1] * (xt.dim() - 1))), mean, mean + var.sqrt() * noise)


def ddim_step(model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    abar = alphas_cumprod.double()
    padded = torch.cat([abar.new_ones(1), abar])  # padded[t_prev + 1]: 1 at t_prev = -1
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    a = _extract(abar, t, xt)
    a_prev = _extract(padded, t_prev + 1, xt)
    sigma = eta * torch.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
    out = a_prev.sqrt() * x0 + torch.clamp(1 - a_prev - sigma ** 2, min=0).sqrt() * eps
    if noise is not None and eta != 0:
        out = out + sigma * noise
    return out


def classifier_free_guidance(eps_cond, eps_uncond, guidance_scale):
    return guidance_scale * eps_cond + (1 - guidance_scale) * eps_uncond
