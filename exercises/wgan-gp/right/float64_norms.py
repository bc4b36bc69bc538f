"""The gradient computed in the critic's dtype, its norms and the penalty in float64, cast back."""
import torch


def gradient_penalty(critic, real, fake, alpha):
    a = alpha[:, None] if real.dim() == 2 else alpha.reshape(-1, *[1] * (real.dim() - 1))
    x_hat = fake + a * (real - fake)
    x_hat.requires_grad_(True)
    out = critic(x_hat).sum()
    g = torch.autograd.grad(out, [x_hat], create_graph=True, retain_graph=True)[0]
    norms = torch.linalg.norm(g.flatten(start_dim=1).double(), dim=-1)
    return (norms - 1).pow(2).mean().to(real.dtype)


def critic_loss(real_scores, fake_scores, penalty, lambda_gp=10.0):
    loss = fake_scores.double().mean() - real_scores.double().mean() + lambda_gp * penalty.double()
    return loss.to(real_scores.dtype)


def generator_loss_wgan(fake_scores):
    return fake_scores.mean().neg()
