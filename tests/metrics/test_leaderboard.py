"""Leaderboard scoring of generated samples: validation of the untrusted array, FID/KID,
and the memorisation check (copies of dataset images flagged, also shifted, mirrored or
dimmed; new images not).

Uses the default metrics cache (var/metrics/): the first run calibrates the thresholds
(about 15 s on 2 cores) and computes the test-split statistics; later runs read them."""
import base64
import dataclasses
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from grader.memorisation_report import memorisation_block
from grader.metrics.degrade import gaussian_blur, gaussian_noise
from grader.metrics.disguise import DISGUISES
from grader.metrics.leaderboard import (
    CALIBRATION_N,
    GeneratedScore,
    centred,
    memorisation_check,
    memorisation_thresholds,
    nearest_distances,
    score_generated,
    threshold_key,
    unit_pixels,
)
from reference_models.datasets import load_dataset

LEAST = {  # memorised share of 300 disguised training images must exceed these (measured on 1,000: docs/metrics.md)
    "elastic 0.5 px": 0.3,
    "rotated 5°": 0.5,
    "shifted 1-2 px, cropped": 0.45,
    "contrast 70%": 0.9,
    "noise σ = 8/255": 0.9,
    "elastic 0.5 px, brightness +4%, noise 3/255 (the issue's)": 0.2,
}


@pytest.fixture(scope="module")
def data():
    train, _ = load_dataset("fashion-mnist", "train")
    test, _ = load_dataset("fashion-mnist", "test")
    return train, test


@pytest.fixture(scope="module")
def copies(data):
    train, _ = data
    return train[np.random.default_rng(0).choice(len(train), 1000, replace=False)]


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images moved by (dy, dx) pixels, zero-filled (what leaves the frame is lost)."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_nearest_distances_match_a_direct_computation(data):
    train, test = data
    queries, refs = test[:7], train[:300]
    d, i = nearest_distances(unit_pixels(queries), unit_pixels(refs), batch_size=3)
    q = queries.reshape(7, -1).astype(np.float64) / 255
    r = refs.reshape(300, -1).astype(np.float64) / 255
    full = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(i, full.argmin(1))
    np.testing.assert_allclose(d, full.min(1), atol=1e-3)


def test_the_centred_form_is_the_same_for_a_shifted_mirrored_or_dimmed_copy(data):
    train, _ = data
    frame = np.ones((28, 28), bool)
    frame[3:-3, 3:-3] = False
    framed = train[:200].copy()
    framed[:, frame] = 0  # room to move 3 pixels without cropping
    original = centred(framed)
    assert torch.allclose(original.norm(dim=1), torch.ones(200))
    for dy, dx in [(0, 1), (-2, 3), (3, -3)]:
        assert torch.allclose(centred(shifted(framed, dy, dx)), original, atol=1e-6)
    assert torch.allclose(centred(framed[:, :, ::-1], mirror=True), original, atol=1e-6)
    dimmed = (framed * 0.6).round().astype(np.uint8)  # rounding: close, not equal
    assert (centred(dimmed) - original).norm(dim=1).max() < 0.02
    assert (centred(framed[:, ::-1]) - original).norm(dim=1).median() > 0.2  # upside down is another image


@pytest.mark.slow
def test_thresholds_are_low_percentiles_of_new_images_and_are_cached(tmp_path, monkeypatch):
    t = memorisation_thresholds("fashion-mnist", q=1.0, n=200, cache=tmp_path)
    assert 0.5 < t.pixel < 3.0  # pixel L2 on [0, 1]; a typical test image is ~3.5 from its nearest neighbour
    assert 0.02 < t.centred < 0.3  # unit vectors; a typical test image is ~0.26 from its nearest neighbour
    assert (tmp_path / f"{threshold_key('fashion-mnist', 1.0, 200)}.npz").is_file()

    def no_loading(*args, **kwargs):
        raise AssertionError("cached thresholds must not reload the dataset")

    monkeypatch.setattr("grader.metrics.leaderboard.load_dataset", no_loading)
    assert memorisation_thresholds("fashion-mnist", q=1.0, n=200, cache=tmp_path) == t


@pytest.mark.slow
def test_training_images_are_flagged(data, copies):
    train, _ = data
    exact = memorisation_check(copies, train)
    assert exact.share == 1.0 and exact.flagged
    noisy = memorisation_check(gaussian_noise(copies, 8.0), train)  # std 8/255 per pixel
    assert noisy.share > 0.95 and noisy.flagged


@pytest.mark.parametrize(("disguise", "least_share"), [
    (lambda x: x[:, :, ::-1], 0.95),  # mirrored
    (lambda x: shifted(x, 0, 1), 0.8),  # one pixel to the right (the part that leaves the frame is lost)
    (lambda x: shifted(x, -1, -1), 0.5),
    (lambda x: (x * 0.8).astype(np.uint8), 0.9),  # dimmed
    (lambda x: np.clip(x * 1.2, 0, 255).astype(np.uint8), 0.9),  # brightened
    (lambda x: (shifted(x[:, :, ::-1], 1, 0) * 0.85).astype(np.uint8), 0.5),  # all three
])
@pytest.mark.slow
def test_disguised_training_images_are_flagged(data, copies, disguise, least_share):
    train, _ = data
    result = memorisation_check(disguise(copies), train)
    assert result.flagged and result.share > least_share, result.share


@pytest.mark.slow
def test_copies_of_the_test_split_are_flagged(data):
    """The test images define FID's reference statistics; a submission could carry them in its source."""
    _, test = data
    result = memorisation_check(test[-500:][:, :, ::-1])
    assert result.flagged and result.share > 0.95


@pytest.mark.slow
def test_a_few_copies_among_new_images_are_flagged_only_past_the_allowed_share(data, copies):
    train, test = data
    held_out = test[CALIBRATION_N:CALIBRATION_N + 1000]
    few = memorisation_check(np.concatenate([held_out[:980], copies[:20]]), train)
    many = memorisation_check(np.concatenate([held_out[:900], copies[:100]]), train)
    assert not few.flagged and many.flagged and many.share >= 0.1


@pytest.mark.slow
def test_held_out_test_images_are_not_flagged(data):
    train, test = data
    held_out = test[CALIBRATION_N:CALIBRATION_N + 2000]  # not used for the calibration
    result = memorisation_check(held_out, train)
    assert result.share < 0.03 and not result.flagged, result.share  # ~1% by construction
    assert result.n == len(held_out)
    assert result.pixel_distances.shape == result.centred_distances.shape == result.memorised.shape == (2000,)
    assert result.memorised.sum() == round(result.share * 2000)


@pytest.mark.slow
def test_training_images_are_new_to_the_test_split(data):
    """The thresholds, calibrated against the 60,000 training images, serve for the 10,000
    test images too: images that are new to the test split are seldom below them."""
    train, test = data
    result = memorisation_check(train[-2000:], test)
    assert result.share < 0.03 and not result.flagged, result.share


@pytest.mark.slow
def test_blurry_samples_are_not_flagged(data, copies):
    """What an undertrained VAE or DDPM produces: blurry garments, even blurry training garments."""
    train, test = data
    blurry_sets = gaussian_blur(test[-1000:], 1.0), gaussian_blur(copies[:500], 1.0), gaussian_blur(copies[500:], 2.0)
    for blurry in blurry_sets:
        assert not memorisation_check(blurry).flagged


@pytest.mark.slow
def test_score_generated_reports_fid_kid_and_memorisation(data, copies):
    _, test = data
    blurry = score_generated(gaussian_blur(test[-1000:], 1.0), n_required=1000, kid_subsets=10)
    assert isinstance(blurry, GeneratedScore) and blurry.label == "FID (Fashion-MNIST features)"
    assert blurry.n == 1000 and blurry.fid > 100 and blurry.kid > 0 and blurry.kid_std >= 0
    assert not blurry.flagged and blurry.memorised_share < 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        blurry.fid = 0.0  # type: ignore[misc]
    for copied in (copies, test[-1000:]):  # FID alone would not notice either
        score = score_generated(copied[:, None], n_required=1000, kid_subsets=10)  # (N, 1, 28, 28) is accepted
        assert score.flagged and score.memorised_share == 1.0 and score.fid < 20


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


# Lower bounds a little under the shares measured on 1,000 training images (docs/metrics.md), here on 300.
@pytest.mark.parametrize(("name", "least_share"), [
    ("elastic 0.5 px", LEAST["elastic 0.5 px"]),
    ("rotated 5°", LEAST["rotated 5°"]),
    ("shifted 1-2 px, cropped", LEAST["shifted 1-2 px, cropped"]),
    ("contrast 70%", LEAST["contrast 70%"]),
    ("noise σ = 8/255", LEAST["noise σ = 8/255"]),
    ("elastic 0.5 px, brightness +4%, noise 3/255 (the issue's)",
     LEAST["elastic 0.5 px, brightness +4%, noise 3/255 (the issue's)"]),
])
@pytest.mark.slow
def test_warped_and_retouched_copies_are_caught(copies, name, least_share):
    result = memorisation_check(DISGUISES[name](copies[:300], 0))
    assert result.flagged and result.share > least_share, result.share


@pytest.mark.slow
def test_held_out_test_images_raise_at_most_one_percent_of_false_alarms(data):
    train, test = data
    result = memorisation_check(test[CALIBRATION_N:CALIBRATION_N + 1000], splits=("train",))  # cached features
    assert result.share <= 0.015 and not result.flagged, result.share  # 0.8% measured on all 5,000
    assert set(result.distances) == {"pixel", "centred", "features", "tangent"}
    assert set(result.nearest_split["tangent"]) == {"train"}


@pytest.mark.slow
def test_the_memorisation_block_names_the_closest_copies_and_draws_them(data, copies):
    train, test = data
    samples = np.concatenate([test[CALIBRATION_N:CALIBRATION_N + 90], copies[:10]])
    block = memorisation_block(memorisation_check(samples, splits=("train",)), samples, "fashion-mnist")
    json.dumps(block, allow_nan=False)
    assert block["flagged"] and set(block["thresholds"]) >= {"pixel", "centred", "features", "tangent"}
    report = block["report"]
    assert 10 <= len(report) <= 12 and all(e["distance"] < e["threshold"] for e in report)
    copied = [e for e in report if e["sample"] >= 90]
    assert len(copied) == 10 and all(e["nearest_split"] == "train" for e in copied)
    assert all(np.array_equal(train[e["nearest_index"]], samples[e["sample"]]) for e in copied)
    png = Image.open(io.BytesIO(base64.b64decode(block["pairs_png"])))
    assert png.size == (2 * 30 + 2, len(report) * 30 + 2)
    blurry = gaussian_blur(test[-50:], 2.0)
    clean = memorisation_block(memorisation_check(blurry), blurry, "fashion-mnist")
    assert clean["report"] == [] and clean["pairs_png"] == ""
