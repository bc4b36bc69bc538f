import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    std = torch.exp(logvar)  # treats logvar as log(std)
    return 0.5 * torch.sum(mu.pow(2) + std.pow(2) - 1 - torch.log(std.pow(2)), dim=-1)


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").flatten(1).sum(1)
    return (bce + gaussian_kl(mu, logvar)).mean()
