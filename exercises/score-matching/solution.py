import math


def dsm_loss(score_model, x, sigmas, sigma_idx, noise):
    sigma = sigmas.to(x.device)[sigma_idx].to(x.dtype)
    sigma = sigma.view(-1, *([1] * (x.dim() - 1)))
    x_noisy = x + sigma * noise
    target = -noise / sigma
    score = score_model(x_noisy, sigma_idx)
    per_sample = 0.5 * sigma.flatten() ** 2 * ((score - target) ** 2).flatten(1).sum(dim=1)
    return per_sample.mean()


def langevin_step(score_model, x, sigma_idx, step_size, noise):
    return x + step_size / 2 * score_model(x, sigma_idx) + math.sqrt(step_size) * noise


def annealed_step_size(sigmas, i, eps):
    return eps * (sigmas[i] / sigmas[-1]).item() ** 2
