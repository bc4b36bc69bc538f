"""Statistical tests of a random function's samples, each with a stated false-failure bound.

Every test takes `p`, the probability that a correct implementation fails it, and returns a
`Test` (statistic, bound, and the index of the worst component). The bounds:

- means and correlations: normal approximation (central limit theorem) of the sample mean
  and of sqrt(n) * sample correlation of independent pairs; accurate to well below p for the
  n >= 10,000 used here. Several components are Bonferroni-corrected (p / d each).
- variances of Gaussian samples: var_hat / var ~ 1 +- z * sqrt(2 / (n - 1)) (normal
  approximation of the chi-squared distribution, n large).
- distributions: the Kolmogorov-Smirnov distance with the Dvoretzky-Kiefer-Wolfowitz
  inequality P(D_n > e) <= 2 exp(-2 n e^2) (Massart 1990), which holds for every n.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Test:
    statistic: float  # the worst component's statistic (in the test's own units)
    bound: float  # it fails above this
    index: int = 0  # the worst component

    @property
    def failed(self) -> bool:
        return not self.statistic <= self.bound  # NaN fails


def normal_two_sided_bound(p_false_failure: float) -> float:
    """z such that P(|N(0,1)| > z) = p (bisection on erfc; no SciPy needed)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erfc(mid / math.sqrt(2)) > p_false_failure:
            lo = mid
        else:
            hi = mid
    return hi


def mean_test(samples: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, p: float) -> Test:
    """Columns of samples (n, d) have means `mean` (d,), given their true std (d,); |z| of the worst column."""
    n, d = samples.shape
    z = (samples.double().mean(0) - mean) / (std / math.sqrt(n))
    worst = int(z.abs().argmax())
    return Test(float(z.abs()[worst]), normal_two_sided_bound(p / d), worst)


def variance_test(samples: torch.Tensor, std: torch.Tensor, p: float) -> Test:
    """Gaussian columns of samples (n, d) have standard deviations std (d,): |var_hat / var - 1| of the worst."""
    n, d = samples.shape
    ratio = samples.double().std(0).pow(2) / std.pow(2) - 1
    worst = int(ratio.abs().argmax())
    return Test(float(ratio.abs()[worst]), normal_two_sided_bound(p / d) * math.sqrt(2 / (n - 1)), worst)


def ks_distance(x: torch.Tensor, cdf=None) -> float:
    """Kolmogorov-Smirnov distance between the sample x and a CDF (default: the standard normal's)."""
    x = x.double().reshape(-1).sort().values
    n = x.numel()
    f = 0.5 * torch.erfc(-x / math.sqrt(2)) if cdf is None else cdf(x)
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return torch.maximum(ranks / n - f, f - (ranks - 1) / n).max().item()


def dkw_bound(n: int, p: float) -> float:
    """e with P(D_n > e) <= p for the KS distance of n draws from the true distribution (DKW-Massart)."""
    return math.sqrt(math.log(2 / p) / (2 * n))


def ks_test(x: torch.Tensor, p: float, cdf=None) -> Test:
    """x (any shape, i.i.d. draws) follows the CDF (default standard normal)."""
    return Test(ks_distance(x, cdf), dkw_bound(x.numel(), p))


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    return torch.corrcoef(torch.stack([a.double().reshape(-1), b.double().reshape(-1)]))[0, 1].item()


def correlation_bound(n: int, p: float) -> float:
    """|r| bound of n independent pairs: sqrt(n) r is about N(0, 1)."""
    return normal_two_sided_bound(p) / math.sqrt(n)


def independence_test(a: torch.Tensor, b: torch.Tensor, p: float) -> Test:
    """Paired draws a, b (same number of elements) are uncorrelated: |correlation| against its bound."""
    return Test(abs(correlation(a, b)), correlation_bound(a.numel(), p))
