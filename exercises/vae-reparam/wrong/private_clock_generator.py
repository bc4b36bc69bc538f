import time

import torch

_generator = torch.Generator().manual_seed(time.time_ns() % 2**63)


def reparameterize(mu, logvar):
    eps = torch.randn(mu.shape, generator=_generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps
