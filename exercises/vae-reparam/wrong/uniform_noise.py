import torch


def reparameterize(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.rand_like(mu)
