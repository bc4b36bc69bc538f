import torch


def reparameterize(mu, logvar):
    std = logvar.mul_(0.5).exp_()  # overwrites the caller's logvar
    return mu + std * torch.randn_like(mu)
