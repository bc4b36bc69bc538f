import torch
from torch.nn import functional as F


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    std = torch.exp(logvar / 2)
    return torch.sum(mu**2 + std**2 - 2 * torch.log(std) - 1, dim=1) / 2


def negative_elbo(x, recon_logits, mu, logvar):
    B = x.shape[0]
    recon = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="sum")
    return (recon + gaussian_kl(mu, logvar).sum()) / B
