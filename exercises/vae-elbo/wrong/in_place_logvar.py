import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    std = logvar.mul_(0.5).exp_()  # overwrites the caller's logvar
    return 0.5 * torch.sum(mu.pow(2) + std.pow(2) - 1 - 2 * torch.log(std), dim=-1)


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").flatten(1).sum(1)
    return (bce + gaussian_kl(mu, logvar)).mean()
