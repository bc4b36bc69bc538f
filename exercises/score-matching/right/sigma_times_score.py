"""The loss written as 0.5 ||sigma * s + noise||^2 (the sigma^2 weight folded in), torch.sum with dims."""
import torch


def dsm_loss(score_model, x, sigmas, sigma_idx, noise):
    dims = tuple(range(1, x.dim()))
    sigma = sigmas[sigma_idx.cpu()].to(device=x.device, dtype=x.dtype).reshape((-1,) + (1,) * len(dims))
    s = score_model(x + sigma * noise, sigma_idx)
    return (0.5 * torch.sum((sigma * s + noise) ** 2, dim=dims)).mean()


def langevin_step(score_model, x, sigma_idx, step_size, noise):
    return torch.addcmul(x + 0.5 * step_size * score_model(x, sigma_idx), torch.ones_like(x), noise,
                         value=step_size ** 0.5)


def annealed_step_size(sigmas, i, eps):
    s = sigmas.double()
    return float(eps * s[i] ** 2 / s[-1] ** 2)
