"""Leaderboard scoring of generated samples: validation of the untrusted array, FID/KID,
and the memorisation check (copies of training images flagged, new images not).

Uses the default metrics cache (var/metrics/): the first run calibrates the threshold
(about 12 s on 2 cores) and computes the test-split statistics; later runs read them."""
import dataclasses

import numpy as np
import pytest

from grader.metrics.degrade import gaussian_blur, gaussian_noise
from grader.metrics.leaderboard import (
    CALIBRATION_N,
    GeneratedScore,
    memorisation_check,
    memorisation_threshold,
    nearest_distances,
    score_generated,
    threshold_key,
)
from reference_models.datasets import load_dataset


@pytest.fixture(scope="module")
def data():
    train, _ = load_dataset("fashion-mnist", "train")
    test, _ = load_dataset("fashion-mnist", "test")
    return train, test


@pytest.fixture(scope="module")
def copies(data):
    train, _ = data
    return train[np.random.default_rng(0).choice(len(train), 1000, replace=False)]


def test_nearest_distances_match_a_direct_computation(data):
    train, test = data
    queries, refs = test[:7], train[:300]
    d, i = nearest_distances(queries, refs, batch_size=3)
    q = queries.reshape(7, -1).astype(np.float64) / 255
    r = refs.reshape(300, -1).astype(np.float64) / 255
    full = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(i, full.argmin(1))
    np.testing.assert_allclose(d, full.min(1), atol=1e-3)


def test_threshold_is_a_low_percentile_of_new_images_and_is_cached(data, tmp_path, monkeypatch):
    t = memorisation_threshold("fashion-mnist", q=1.0, n=200, cache=tmp_path)
    assert 0.5 < t < 3.0  # pixel L2 on [0, 1]; a typical test image is ~3.5 from its nearest neighbour
    assert (tmp_path / f"{threshold_key('fashion-mnist', 1.0, 200)}.npz").is_file()

    def no_loading(*args, **kwargs):
        raise AssertionError("a cached threshold must not reload the dataset")

    monkeypatch.setattr("grader.metrics.leaderboard.load_dataset", no_loading)
    assert memorisation_threshold("fashion-mnist", q=1.0, n=200, cache=tmp_path) == t


def test_training_images_are_flagged(data, copies):
    train, _ = data
    exact = memorisation_check(copies, train)
    assert exact.share == 1.0 and exact.flagged
    noisy = memorisation_check(gaussian_noise(copies, 8.0), train)  # std 8/255 per pixel
    assert noisy.share > 0.95 and noisy.flagged


def test_a_few_copies_among_new_images_are_flagged_only_past_the_allowed_share(data, copies):
    train, test = data
    held_out = test[CALIBRATION_N:CALIBRATION_N + 1000]
    few = memorisation_check(np.concatenate([held_out[:980], copies[:20]]), train)
    many = memorisation_check(np.concatenate([held_out[:900], copies[:100]]), train)
    assert not few.flagged and many.flagged and many.share >= 0.1


def test_held_out_test_images_are_not_flagged(data):
    train, test = data
    held_out = test[CALIBRATION_N:CALIBRATION_N + 2000]  # not used for the calibration
    result = memorisation_check(held_out, train)
    assert result.share < 0.03 and not result.flagged, result.share  # ~1% by construction
    assert result.n == len(held_out) and result.distances.shape == result.nearest.shape == (len(held_out),)


def test_blurry_samples_are_not_flagged(data, copies):
    """What an undertrained VAE or DDPM produces: blurry garments, even blurry training garments."""
    train, test = data
    blurry_sets = gaussian_blur(test[-1000:], 1.0), gaussian_blur(copies[:500], 1.0), gaussian_blur(copies[500:], 2.0)
    for blurry in blurry_sets:
        assert not memorisation_check(blurry, train).flagged


def test_score_generated_reports_fid_kid_and_memorisation(data, copies):
    _, test = data
    new = score_generated(test[-1000:], n_required=1000, kid_subsets=10)
    assert isinstance(new, GeneratedScore) and new.label == "FID (Fashion-MNIST features)"
    assert new.n == 1000 and 0 <= new.fid < 10 and abs(new.kid) < 0.05 and new.kid_std >= 0
    assert not new.flagged and new.memorised_share < 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.fid = 0.0  # type: ignore[misc]
    copied = score_generated(copies[:, None], n_required=1000, kid_subsets=10)  # (N, 1, 28, 28) is accepted
    assert copied.flagged and copied.memorised_share == 1.0 and copied.fid < 20  # FID alone would not notice
    blurry = score_generated(gaussian_blur(test[-1000:], 1.0), n_required=1000, kid_subsets=10)
    assert not blurry.flagged and blurry.fid > 10 * new.fid


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (np.zeros((10, 28, 28), np.float32), "dtype uint8"),
        (np.zeros((10, 28, 28), np.int64), "dtype uint8"),
        (np.zeros((10, 28, 28), np.uint8).tolist(), "numpy array"),
        (np.zeros((10, 32, 32), np.uint8), r"shape \(N, 28, 28\) or \(N, 1, 28, 28\)"),
        (np.zeros((10, 3, 28, 28), np.uint8), r"shape \(N, 28, 28\)"),
        (np.zeros((10, 784), np.uint8), r"shape \(N, 28, 28\)"),
        (np.zeros((9, 28, 28), np.uint8), "exactly 10 samples, got 9"),
        (np.zeros((11, 1, 28, 28), np.uint8), "exactly 10 samples, got 11"),
    ],
)
def test_invalid_samples_get_a_clear_message(samples, message):
    with pytest.raises(ValueError, match=message):
        score_generated(samples, n_required=10)
