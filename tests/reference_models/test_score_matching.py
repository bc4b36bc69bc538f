"""The score-matching reference: the DSM loss at the known optimum of Gaussian data, annealed Langevin
dynamics with the true score sampling the right Gaussian, and the annealed step size."""
from __future__ import annotations

import math

import torch

from reference_models import score_matching as ref


def _gaussian_score(s: float, sigmas: torch.Tensor, mean: float = 0.0):
    """The exact score of N(mean, s^2 I) noised by sigmas[idx]."""
    return lambda x, idx: -(x - mean) / (s ** 2 + sigmas[idx].view(-1, *([1] * (x.dim() - 1))) ** 2)


def test_dsm_loss_at_the_true_score_is_the_known_optimum_and_below_other_scores():
    g = torch.Generator().manual_seed(0)
    n, d, s = 200_000, 3, 1.5
    sigmas = torch.tensor([2.0, 0.7, 0.1], dtype=torch.float64)
    score = _gaussian_score(s, sigmas)
    for i in range(3):
        x = torch.randn(n, d, generator=g, dtype=torch.float64) * s
        noise = torch.randn(n, d, generator=g, dtype=torch.float64)
        idx = torch.full((n,), i)
        loss = ref.dsm_loss(score, x, sigmas, idx, noise).item()
        optimum = ref.gaussian_dsm_optimum(s, float(sigmas[i]), d)
        assert abs(loss - optimum) < 6 * optimum * math.sqrt(2 / (d * n))  # a chi-squared mean, 6 sigma
        for c in (0.8, 1.25):
            assert ref.dsm_loss(lambda x, k, c=c: c * score(x, k), x, sigmas, idx, noise).item() > loss


def test_dsm_loss_is_a_batch_mean_of_sums_and_differentiable():
    x, noise = torch.randn(4, 2, 3), torch.randn(4, 2, 3)
    sigmas = torch.tensor([1.0, 0.5])
    idx = torch.tensor([0, 1, 1, 0])
    weight = torch.tensor(0.3, requires_grad=True)
    loss = ref.dsm_loss(lambda v, k: weight * v, x, sigmas, idx, noise)
    sigma = sigmas[idx].view(-1, 1, 1)
    by_hand = sum(0.5 * sigma[b] ** 2 * ((weight * (x[b] + sigma[b] * noise[b]) + noise[b] / sigma[b]) ** 2).sum()
                  for b in range(4)) / 4
    torch.testing.assert_close(loss, by_hand.reshape(()))
    loss.backward()
    assert weight.grad is not None and loss.dim() == 0


def test_annealed_langevin_with_the_true_score_samples_the_data_distribution():
    g = torch.Generator().manual_seed(1)
    sigmas = torch.logspace(0, -2, 5, dtype=torch.float64)  # 1 .. 0.01
    s, mean = 0.5, 2.0
    score = _gaussian_score(s, sigmas, mean)
    x = torch.rand(20_000, 1, generator=g, dtype=torch.float64) * 8 - 4
    for i in range(len(sigmas)):
        step = ref.annealed_step_size(sigmas, i, 2e-4)
        idx = torch.full((len(x),), i)
        for _ in range(200):
            x = ref.langevin_step(score, x, idx, step, torch.randn(x.shape, generator=g, dtype=torch.float64))
    assert abs(x.mean().item() - mean) < 0.03
    assert abs(x.std().item() - math.sqrt(s ** 2 + 0.01 ** 2)) < 0.03


def test_annealed_step_size():
    sigmas = torch.tensor([10.0, 1.0, 0.1])
    assert isinstance(ref.annealed_step_size(sigmas, 0, 2e-5), float)
    assert math.isclose(ref.annealed_step_size(sigmas, 0, 2e-5), 2e-5 * 1e4, rel_tol=1e-6)
    assert math.isclose(ref.annealed_step_size(sigmas, 2, 2e-5), 2e-5, rel_tol=1e-6)
