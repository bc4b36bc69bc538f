import torch


def reparameterize(mu, logvar):
    generator = torch.Generator(device=mu.device).manual_seed(0)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
