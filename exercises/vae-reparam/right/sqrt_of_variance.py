import torch


def reparameterize(mu, logvar):
    noise = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    return noise * torch.sqrt(torch.exp(logvar)) + mu
