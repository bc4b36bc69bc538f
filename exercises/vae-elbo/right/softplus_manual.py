import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)


def negative_elbo(x, recon_logits, mu, logvar):
    # -[x log s(l) + (1 - x) log(1 - s(l))] = softplus(l) - x * l
    bce = F.softplus(recon_logits) - x * recon_logits
    return (bce.view(x.size(0), -1).sum(1) + gaussian_kl(mu, logvar)).mean()
