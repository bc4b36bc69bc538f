import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence


def gaussian_kl(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(q, p).sum(-1)


def negative_elbo(x, recon_logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").flatten(1).sum(1)
    return (bce + gaussian_kl(mu, logvar)).mean()


def reparameterize(mu, logvar):
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + std * eps
