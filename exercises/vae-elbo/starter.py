"""The evidence lower bound (ELBO) of a VAE with a Bernoulli decoder.

Implement `gaussian_kl` and `negative_elbo` below. Read statement.md for the
maths and what is checked. Do not use `torch.distributions.kl_divergence` or the
KL functions in `torch.distributions.kl`.
"""
import torch
import torch.nn.functional as F  # noqa: F401  (F.binary_cross_entropy_with_logits)
from torch import Tensor


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) for each row.

    mu, logvar: (B, D); logvar is the log of the variance. Returns shape (B,):
    the KL of each row, summed over the D latent dimensions.
    """
    raise NotImplementedError("write gaussian_kl")


def negative_elbo(x: Tensor, recon_logits: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """Negative ELBO of a VAE with a Bernoulli decoder, averaged over the batch.

    x: (B, ...) targets in [0, 1] (any value, not only 0 and 1);
    recon_logits: same shape as x, the decoder's logits; mu, logvar: (B, D).
    Per sample: binary cross-entropy of the logits against x, summed over all
    non-batch dimensions, plus gaussian_kl(mu, logvar). Returns a 0-dim tensor,
    the mean over the batch, differentiable with respect to recon_logits, mu and
    logvar. Must stay finite and exact for logits in [-50, 50]: compute from the
    logits, not from sigmoid probabilities.
    """
    raise NotImplementedError("write negative_elbo")


if __name__ == "__main__":
    # KL is 0 for the prior itself, and 1/2 * (mu^2 + e^lv - 1 - lv) per dimension otherwise.
    print("KL of N(0, 1) (expect 0):", gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)))
    print("KL of N(1, e) (expect (e - 1) / 2 = 0.859 each):", gaussian_kl(torch.ones(2, 1), torch.ones(2, 1)))

    # With logits 0 every pixel has p = 1/2, so the BCE is log 2 per pixel whatever x is.
    x = torch.rand(4, 1, 28, 28)
    loss = negative_elbo(x, torch.zeros_like(x), torch.zeros(4, 8), torch.zeros(4, 8))
    print("loss with zero logits (expect 784 * log 2 = 543.43):", loss)

    # Confident logits must not give inf or nan.
    logits = torch.full((2, 10), 50.0)
    print("loss at logits 50, x = 0 (expect 500):",
          negative_elbo(torch.zeros(2, 10), logits, torch.zeros(2, 1), torch.zeros(2, 1)))
    print("loss at logits 50, x = 1 (expect ~0):",
          negative_elbo(torch.ones(2, 10), logits, torch.zeros(2, 1), torch.zeros(2, 1)))
