import torch


def reparameterize(mu, logvar):
    torch.manual_seed(0)  # "for reproducibility"
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
