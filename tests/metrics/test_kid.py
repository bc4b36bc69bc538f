import numpy as np
import pytest

from grader.metrics.kid import kernel_distance, mmd2_unbiased


def naive_mmd2(x, y):
    """Loop-by-loop unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 (Binkowski et al., 2018, eq. 2)."""
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    n, m = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return kxx + kyy - 2 * kxy


def test_matches_the_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(9, 5)) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(naive_mmd2(x, y), rel=1e-10)


def test_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(1)
    same = [mmd2_unbiased(rng.normal(size=(50, 8)), rng.normal(size=(50, 8))) for _ in range(200)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))  # mean zero within its error
    assert min(same) < 0  # an unbiased estimator goes below zero
    shifted, std = kernel_distance(rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) + 0.5, n_subsets=10,
                                   subset_size=200)
    assert shifted > 10 * max(std, 1e-12) / np.sqrt(10)
