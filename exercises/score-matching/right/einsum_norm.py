"""Squared norms with einsum over flattened rows; the noisy sample built with torch.addcmul."""
import torch


def dsm_loss(score_model, x, sigmas, sigma_idx, noise):
    B = x.shape[0]
    sigma = torch.gather(sigmas.to(x.device), 0, sigma_idx.to(x.device)).to(x.dtype)
    shaped = sigma.reshape(B, *([1] * (x.dim() - 1)))
    x_noisy = torch.addcmul(x, shaped, noise)
    residual = (score_model(x_noisy, sigma_idx) + noise / shaped).reshape(B, -1)
    sq = torch.einsum("bi,bi->b", residual, residual)
    return torch.mean(sigma.pow(2) * sq / 2)


def langevin_step(score_model, x, sigma_idx, step_size, noise):
    step = torch.as_tensor(step_size, dtype=x.dtype, device=x.device)
    return x + step / 2 * score_model(x, sigma_idx) + torch.sqrt(step) * noise


def annealed_step_size(sigmas, i, eps):
    return (eps * sigmas[i] ** 2 / sigmas[-1] ** 2).item()
