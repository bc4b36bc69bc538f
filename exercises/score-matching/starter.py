"""Denoising score matching and Langevin dynamics.

Implement the three functions below. Read statement.md for the maths and what is checked.
`score_model` is a callable the grader builds: `score_model(x, sigma_idx)` returns x's shape.
"""
import torch
from torch import Tensor


def dsm_loss(score_model, x: Tensor, sigmas: Tensor, sigma_idx: Tensor, noise: Tensor) -> Tensor:
    """Song & Ermon 2019 with lambda(sigma) = sigma^2: sigma = sigmas[sigma_idx] per sample,
    x_noisy = x + sigma * noise, target = -noise / sigma; per sample
    0.5 * sigma^2 * ||score_model(x_noisy, sigma_idx) - target||^2 summed over the non-batch
    dimensions. Returns the batch mean (0-dim, x's dtype), differentiable in the model's parameters.
    """
    raise NotImplementedError("write dsm_loss")


def langevin_step(score_model, x: Tensor, sigma_idx: Tensor, step_size: float, noise: Tensor) -> Tensor:
    """x + step_size / 2 * score_model(x, sigma_idx) + sqrt(step_size) * noise."""
    raise NotImplementedError("write langevin_step")


def annealed_step_size(sigmas: Tensor, i: int, eps: float) -> float:
    """eps * sigmas[i] ** 2 / sigmas[-1] ** 2 as a Python float (sigmas descending)."""
    raise NotImplementedError("write annealed_step_size")


if __name__ == "__main__":
    # the true score of N(0, I) noised by sigma is -x / (1 + sigma^2): Langevin dynamics should sample it
    sigmas = torch.tensor([1.0, 0.5, 0.1])
    true_score = lambda x, idx: -x / (1 + sigmas[idx].view(-1, 1) ** 2)  # noqa: E731
    x = torch.randn(5000, 2) * 3
    for i in range(len(sigmas)):
        step = annealed_step_size(sigmas, i, 2e-3)
        idx = torch.full((len(x),), i)
        for _ in range(100):
            x = langevin_step(true_score, x, idx, step, torch.randn_like(x))
    print("std of the samples (expect about 1):", x.std(0))
    data = torch.randn(5000, 2)
    print("DSM loss at the true score (expect about", 2 * 0.5 / (1 + 0.25), "):",
          dsm_loss(true_score, data, sigmas, torch.full((5000,), 1), torch.randn_like(data)).item())
