import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    return 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1 - logvar, dim=-1)


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="sum")
    return bce + gaussian_kl(mu, logvar).sum()  # forgot to divide by the batch size
