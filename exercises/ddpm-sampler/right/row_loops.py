"""One row at a time with Python floats (math.sqrt), stacked at the end."""
import math

import torch


def _coefs(t, betas, alphas_cumprod):
    beta = float(betas[t])
    abar = float(alphas_cumprod[t])
    abar_prev = float(alphas_cumprod[t - 1]) if t > 0 else 1.0
    return beta, abar, abar_prev


def q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod):
    means, variances = [], []
    for i in range(xt.shape[0]):
        beta, abar, abar_prev = _coefs(int(t[i]), betas, alphas_cumprod)
        c0 = beta * math.sqrt(abar_prev) / (1 - abar)
        c1 = (1 - abar_prev) * math.sqrt(1 - beta) / (1 - abar)
        means.append(c0 * x0[i] + c1 * xt[i])
        variances.append(torch.full_like(xt[i], beta * (1 - abar_prev) / (1 - abar)))
    return torch.stack(means), torch.stack(variances)


def predict_x0_from_eps(xt, t, eps, alphas_cumprod):
    rows = []
    for i in range(xt.shape[0]):
        abar = float(alphas_cumprod[int(t[i])])
        rows.append((xt[i] - math.sqrt(1 - abar) * eps[i]) / math.sqrt(abar))
    return torch.stack(rows)


def p_sample(model, xt, t, betas, alphas_cumprod, noise):
    x0 = predict_x0_from_eps(xt, t, model(xt, t), alphas_cumprod)
    mean, variance = q_posterior_mean_variance(x0, xt, t, betas, alphas_cumprod)
    rows = [mean[i] if int(t[i]) == 0 else mean[i] + variance[i].sqrt() * noise[i] for i in range(xt.shape[0])]
    return torch.stack(rows)


def ddim_step(model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    eps = model(xt, t)
    x0 = predict_x0_from_eps(xt, t, eps, alphas_cumprod)
    rows = []
    for i in range(xt.shape[0]):
        a = float(alphas_cumprod[int(t[i])])
        a_prev = float(alphas_cumprod[int(t_prev[i])]) if int(t_prev[i]) >= 0 else 1.0
        sigma = eta * math.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
        row = math.sqrt(a_prev) * x0[i] + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps[i]
        if eta > 0:
            row = row + sigma * noise[i]
        rows.append(row)
    return torch.stack(rows)


def classifier_free_guidance(eps_cond, eps_uncond, guidance_scale):
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)
