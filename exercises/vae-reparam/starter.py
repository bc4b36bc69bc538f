"""The reparameterization trick.

Implement `reparameterize` below. Read statement.md for the maths and what is checked.
"""
import torch
from torch import Tensor


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """Sample z ~ N(mu, diag(exp(logvar))) as z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I).

    mu, logvar: tensors of the same shape. Returns a tensor of that shape, with
    gradients flowing to both mu and logvar.
    """
    raise NotImplementedError("write reparameterize")


if __name__ == "__main__":
    mu, logvar = torch.zeros(10000, 2), torch.log(torch.tensor([1.0, 4.0])).expand(10000, 2)
    z = reparameterize(mu, logvar)
    print("mean", z.mean(0), "std (expect 1 and 2)", z.std(0))
