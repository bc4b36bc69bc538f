import torch


def gradient_penalty(critic, real, fake, alpha):
    batch_size = real.shape[0]
    a = alpha.view(batch_size, *([1] * (real.dim() - 1)))  # one weight per sample
    # as in older WGAN-GP code: the interpolate is cast to a FloatTensor, whatever the data's dtype
    x_hat = (a * real + (1 - a) * fake).type(torch.FloatTensor).requires_grad_(True)
    scores = critic(x_hat)
    grads = torch.autograd.grad(outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores),
                                create_graph=True)[0]
    norms = grads.view(batch_size, -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


def critic_loss(real_scores, fake_scores, penalty, lambda_gp=10.0):
    return fake_scores.mean() - real_scores.mean() + lambda_gp * penalty


def generator_loss_wgan(fake_scores):
    return -fake_scores.mean()
