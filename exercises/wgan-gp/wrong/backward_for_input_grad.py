import torch


def gradient_penalty(critic, real, fake, alpha):
    batch_size = real.shape[0]
    a = alpha.view(batch_size, *([1] * (real.dim() - 1)))  # one weight per sample
    x_hat = (a * real + (1 - a) * fake).requires_grad_(True)
    critic(x_hat).sum().backward(create_graph=True)  # fills x_hat.grad, and every critic parameter's .grad too
    grads = x_hat.grad
    norms = grads.view(batch_size, -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


def critic_loss(real_scores, fake_scores, penalty, lambda_gp=10.0):
    return fake_scores.mean() - real_scores.mean() + lambda_gp * penalty


def generator_loss_wgan(fake_scores):
    return -fake_scores.mean()
