"""torch.func.grad for the input gradient (differentiable in the critic's parameters by construction)."""
import torch
from torch.func import grad, vmap


def gradient_penalty(critic, real, fake, alpha):
    shape = (-1,) + (1,) * (real.ndim - 1)
    x_hat = torch.lerp(fake, real, alpha.reshape(shape))  # fake + alpha * (real - fake)
    g = grad(lambda x: critic(x).sum())(x_hat)
    norms = vmap(torch.linalg.vector_norm)(g)
    return torch.mean(torch.square(norms - 1.0))


def critic_loss(real_scores, fake_scores, penalty, lambda_gp=10.0):
    return torch.mean(fake_scores) - torch.mean(real_scores) + lambda_gp * penalty


def generator_loss_wgan(fake_scores):
    return torch.mean(-fake_scores)
