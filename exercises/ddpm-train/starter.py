"""Train a DDPM with your noise schedule and forward process.

Implement the four functions below (the same as in the ddpm-schedule exercise). The grader
checks them, then trains the UNet of scaffold.py with them on Fashion-MNIST and scores its
samples. Read statement.md for the maths, the budgets and what is checked.
"""
import math  # noqa: F401  (math.pi, math.cos)

import torch
from torch import Tensor


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """T betas evenly spaced from beta_start to beta_end inclusive (Ho et al. 2020).

    T >= 2. Returns a tensor of shape (T,), float32 or float64.
    """
    raise NotImplementedError("write linear_beta_schedule")


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """The cosine schedule of Nichol & Dhariwal (2021).

    alpha_bar(t) = cos(((t / T) + s) / (1 + s) * pi / 2) ** 2 for t = 0 .. T, and
    beta_i = min(1 - alpha_bar(i + 1) / alpha_bar(i), max_beta) for i = 0 .. T-1.
    Returns a tensor of shape (T,), float32 or float64.
    """
    raise NotImplementedError("write cosine_beta_schedule")


def alphas_cumprod(betas: Tensor) -> Tensor:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s) for t = 0 .. T-1.

    betas: (T,). Returns a tensor of the same shape and dtype.
    """
    raise NotImplementedError("write alphas_cumprod")


def q_sample(x0: Tensor, t: Tensor, noise: Tensor, alphas_cumprod: Tensor) -> Tensor:
    """Sample x_t ~ q(x_t | x_0): x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise.

    x0, noise: (B, ...) with any number of non-batch dimensions.
    t: (B,) int64, 0-based indices into alphas_cumprod (0 .. T-1).
    alphas_cumprod: (T,), float32 or float64, possibly on another device than x0.
    alpha_bar_t broadcasts over all non-batch dimensions. Returns a tensor of
    x0's shape, dtype and device. Do not modify any input in place.
    """
    raise NotImplementedError("write q_sample")


if __name__ == "__main__":
    betas = linear_beta_schedule(1000)
    print("linear:", betas.shape, betas[0].item(), betas[-1].item(), "(expect (1000,) 1e-4 0.02)")
    cos = cosine_beta_schedule(1000)
    print("cosine:", cos.shape, cos[0].item(), cos[-1].item(), "(expect (1000,) ~4.1e-5 0.999)")
    abar = alphas_cumprod(betas)
    print("alpha_bar:", abar[0].item(), abar[-1].item(), "(expect 0.9999 ~4.0e-5)")
    x0 = torch.rand(4, 3, 8, 8) * 2 - 1
    t = torch.tensor([0, 10, 500, 999])
    xt = q_sample(x0, t, torch.randn_like(x0), abar)
    print("x_t:", xt.shape, xt.dtype, "(expect (4, 3, 8, 8) float32)")
    print("x_t at t = 999 has std", xt[3].std().item(), "(expect about 1)")
    x2 = q_sample(torch.zeros(5, 2), torch.arange(5), torch.ones(5, 2), abar)
    print("(B, D) input:", x2.shape, "(expect (5, 2))")
