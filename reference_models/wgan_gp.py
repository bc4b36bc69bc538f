"""The Wasserstein GAN with gradient penalty (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville, 2017).

The critic f estimates the Wasserstein-1 distance E[f(real)] - E[f(fake)] over 1-Lipschitz f
(Arjovsky et al., 2017); instead of clipping weights, WGAN-GP penalises the critic's gradient norm
away from 1 at random points between real and fake samples (Algorithm 1):
x_hat = alpha * real + (1 - alpha) * fake, penalty = E[(||grad f(x_hat)||_2 - 1)^2].
"""
from __future__ import annotations

import torch
from torch import Tensor


def interpolate(real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    """alpha (B,) broadcast over every non-batch dimension of real and fake."""
    a = alpha.reshape(-1, *([1] * (real.dim() - 1)))
    return a * real + (1 - a) * fake


def gradient_penalty(critic, real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    """mean over the batch of (||d critic(x_hat).sum() / d x_hat_i||_2 - 1)^2, each norm over all of a sample's
    dimensions; differentiable in the critic's parameters (create_graph=True). 0-dim."""
    x_hat = interpolate(real, fake, alpha)
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (g.flatten(1).norm(dim=1) - 1).pow(2).mean()


def critic_loss(real_scores: Tensor, fake_scores: Tensor, penalty: Tensor, lambda_gp: float = 10.0) -> Tensor:
    """E[f(fake)] - E[f(real)] + lambda_gp * penalty, the critic's loss to minimise. 0-dim."""
    return fake_scores.mean() - real_scores.mean() + lambda_gp * penalty


def generator_loss_wgan(fake_scores: Tensor) -> Tensor:
    """-E[f(G(z))]. 0-dim."""
    return -fake_scores.mean()
