import torch


def reparameterize(mu, logvar):
    eps = torch.randn(mu.shape)  # always float32
    return (mu + torch.exp(0.5 * logvar) * eps).float()
