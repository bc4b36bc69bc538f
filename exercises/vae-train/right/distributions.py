"""torch.distributions throughout (allowed): the KL as -H(q) - E_q[log p(z)], the sample as rsample().

For p = N(0, 1): E_q[log p(z)] = log p(mu) - sigma^2 / 2.
"""
import torch
from torch.distributions import Bernoulli, Normal


def gaussian_kl(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    cross_entropy = -(p.log_prob(mu) - 0.5 * q.variance)
    return (cross_entropy - q.entropy()).sum(-1)


def negative_elbo(x, recon_logits, mu, logvar):
    # Bernoulli log-likelihood of continuous targets (validate_args=False: x need not be 0/1)
    log_lik = Bernoulli(logits=recon_logits, validate_args=False).log_prob(x)
    per_sample = -log_lik.sum(dim=tuple(range(1, x.dim())))
    return (per_sample + gaussian_kl(mu, logvar)).mean()


def reparameterize(mu, logvar):
    return Normal(mu, (0.5 * logvar).exp()).rsample()
