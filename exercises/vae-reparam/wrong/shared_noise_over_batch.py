import torch


def reparameterize(mu, logvar):
    eps = torch.randn(mu.shape[-1], dtype=mu.dtype)  # one noise vector for the whole batch
    return mu + torch.exp(0.5 * logvar) * eps
