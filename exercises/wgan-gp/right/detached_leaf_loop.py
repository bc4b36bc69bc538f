"""x_hat as a fresh leaf, the critic's scores squeezed, norms per sample in a loop, losses from sums."""
import torch


def gradient_penalty(critic, real, fake, alpha):
    x_hat = torch.empty_like(real)
    for i in range(real.shape[0]):
        x_hat[i] = alpha[i] * real[i] + (1 - alpha[i]) * fake[i]
    x_hat = x_hat.detach().requires_grad_()
    scores = critic(x_hat).reshape(-1)
    (g,) = torch.autograd.grad(scores, x_hat, grad_outputs=torch.ones(len(scores), dtype=scores.dtype),
                               create_graph=True)
    total = 0
    for gi in g:
        total = total + (torch.sqrt((gi * gi).sum()) - 1) ** 2
    return total / len(g)


def critic_loss(real_scores, fake_scores, penalty, lambda_gp=10.0):
    w_estimate = real_scores.sum() / real_scores.numel() - fake_scores.sum() / fake_scores.numel()
    return -w_estimate + penalty * lambda_gp


def generator_loss_wgan(fake_scores):
    return -(fake_scores.sum() / fake_scores.numel())
