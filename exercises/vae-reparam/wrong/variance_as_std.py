import torch


def reparameterize(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)
