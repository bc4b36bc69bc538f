import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())  # sums over the batch too


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="sum")
    return (bce + gaussian_kl(mu, logvar)) / x.shape[0]
