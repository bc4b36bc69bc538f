"""A loop over samples with F.mse_loss(reduction="sum"), Python floats for sigma."""
import math

import torch
import torch.nn.functional as F


def dsm_loss(score_model, x, sigmas, sigma_idx, noise):
    sig = torch.stack([sigmas[int(k)] for k in sigma_idx]).to(x)
    x_noisy = x + sig.view(-1, *[1] * (x.dim() - 1)) * noise
    scores = score_model(x_noisy, sigma_idx)
    total = 0.0
    for b in range(x.shape[0]):
        s = float(sigmas[int(sigma_idx[b])])
        total = total + 0.5 * s * s * F.mse_loss(scores[b], -noise[b] / sig[b], reduction="sum")
    return total / x.shape[0]


def langevin_step(score_model, x, sigma_idx, step_size, noise):
    drift = score_model(x, sigma_idx)
    return x + drift * (step_size / 2) + noise * math.sqrt(step_size)


def annealed_step_size(sigmas, i, eps):
    sigma_i, sigma_L = float(sigmas[i]), float(sigmas[len(sigmas) - 1])
    return eps * sigma_i ** 2 / sigma_L ** 2
