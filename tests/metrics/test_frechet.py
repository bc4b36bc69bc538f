import numpy as np
import pytest
import scipy.linalg

from grader.metrics.frechet import GaussianStats, frechet_distance


def closed_form_commuting(m1, m2, eig1, eig2):
    """For covariances sharing eigenvectors: ||m1 - m2||^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    return float(np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(eig1) - np.sqrt(eig2)) ** 2))


def sqrtm_frechet(mu1, s1, mu2, s2):
    """Independent implementation: pytorch-fid's formula tr(S1 + S2 - 2 sqrtm(S1 S2)) with
    scipy.linalg.sqrtm (pytorch-fid itself cannot be imported here: it needs torchvision)."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


def test_diagonal_gaussians_match_the_closed_form():
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=50), rng.normal(size=50)
    a, b = rng.uniform(0.1, 4, 50), rng.uniform(0.1, 4, 50)
    got = frechet_distance(m1, np.diag(a), m2, np.diag(b))
    assert got == pytest.approx(closed_form_commuting(m1, m2, a, b), rel=1e-6)


def test_commuting_full_covariances_match_the_closed_form():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    a, b = rng.uniform(0.01, 9, 30), rng.uniform(0.01, 9, 30)
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    m1, m2 = rng.normal(size=30), rng.normal(size=30)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(closed_form_commuting(m1, m2, a, b), rel=1e-6)


def test_one_dimension_is_mean_and_std_difference():
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]])) == pytest.approx(
        (1 - 3) ** 2 + (2 - 3) ** 2, rel=1e-12
    )


def test_agrees_with_an_independent_sqrtm_implementation_on_random_features():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 64)) @ rng.normal(size=(64, 64))
    y = rng.normal(size=(2000, 64)) @ rng.normal(size=(64, 64)) + 0.5
    a, b = GaussianStats.from_features(x), GaussianStats.from_features(y)
    ours = frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
    assert ours == pytest.approx(sqrtm_frechet(a.mu, a.sigma, b.mu, b.sigma), rel=1e-6)
    assert ours == pytest.approx(frechet_distance(b.mu, b.sigma, a.mu, a.sigma), rel=1e-9)


def test_rank_deficient_covariances_stay_real_and_nonnegative():
    """Fewer samples than dimensions: singular covariances, where sqrtm-based code
    needs an eps offset; the eigen route only clips round-off negatives."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20, 64)), rng.normal(size=(20, 64)) * 1.5
    a, b = GaussianStats.from_features(x), GaussianStats.from_features(y)
    d = frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
    assert np.isfinite(d) and d > 0
    assert frechet_distance(a.mu, a.sigma, a.mu, a.sigma) == pytest.approx(0.0, abs=1e-9)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
