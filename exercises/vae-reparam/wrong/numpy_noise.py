import numpy as np
import torch


def reparameterize(mu, logvar):
    eps = torch.from_numpy(np.random.standard_normal(tuple(mu.shape))).to(dtype=mu.dtype, device=mu.device)
    return mu + torch.exp(0.5 * logvar) * eps
