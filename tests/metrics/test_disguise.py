"""The disguises used to test the memorisation check do what they claim, deterministically."""
import numpy as np
import pytest

from grader.metrics import disguise as D


def ramp(n: int = 4) -> np.ndarray:
    """Images whose value is 8 x column: a horizontal displacement dx changes a pixel by 8 dx."""
    return np.broadcast_to((np.arange(28) * 8).astype(np.uint8), (n, 28, 28)).copy()


@pytest.mark.parametrize("magnitude", [0.5, 1.0, 2.0])
def test_elastic_fields_have_the_requested_rms_length_and_are_smooth(magnitude):
    field = D.displacement_field(16, 28, 28, magnitude, seed=3)
    rms = field.pow(2).sum(1).mean((1, 2)).sqrt()
    np.testing.assert_allclose(rms.numpy(), magnitude, rtol=1e-4)
    step = (field[..., 1:] - field[..., :-1]).abs().mean() / field.abs().mean()
    assert step < 0.25  # neighbouring pixels move nearly alike: smooth, not per-pixel jitter


def test_a_warp_moves_pixels_by_the_field():
    images = ramp()
    field = D.displacement_field(4, 28, 28, 1.0, seed=0)
    moved = D.warp(images, field).astype(float)
    inside = (slice(None), slice(4, -4), slice(4, -4))
    expected = images.astype(float) + 8 * field[:, 1].numpy()
    assert np.abs(moved[inside] - expected[inside]).max() <= 0.6  # rounding to uint8
    assert np.abs(D.elastic(images, 1.0, seed=0).astype(float) - moved).max() == 0


@pytest.mark.parametrize("degrees", [5.0, 10.0])
def test_rotation_turns_a_bar_by_the_angle(degrees):
    bar = np.zeros((8, 28, 28), np.uint8)
    bar[:, 13:15, 4:24] = 255
    out = D.rotate(bar, degrees, seed=1).astype(float)
    yy, xx = np.mgrid[:28, :28] - 13.5
    for image in out:
        w = image / image.sum()
        cyy, cxx, cxy = (w * yy * yy).sum(), (w * xx * xx).sum(), (w * xx * yy).sum()
        angle = np.degrees(0.5 * np.arctan2(2 * cxy, cxx - cyy))
        assert abs(abs(angle) - degrees) < 1.0, angle


def test_random_shifts_move_each_image_by_one_or_two_pixels_and_crop():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 255, (50, 28, 28)).astype(np.uint8)
    out = D.random_shifts(images, 1, 2, seed=4)
    for x, y in zip(images, out, strict=True):
        moves = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(D.shift(x[None], dy, dx)[0], y)]
        assert len(moves) == 1 and 1 <= max(map(abs, moves[0])) <= 2
    assert np.array_equal(D.random_shifts(images, 1, 2, seed=4), out)


def test_brightness_contrast_and_noise():
    images = np.full((10, 28, 28), 100, np.uint8)
    images[:, 10:18] = 200
    assert np.allclose(D.brightness_contrast(images, brightness=0.1).astype(float) - images, 25.5, atol=0.5)
    low = D.brightness_contrast(images, contrast=0.5).astype(float)
    assert np.allclose(low.std((1, 2)), 0.5 * images.astype(float).std((1, 2)), rtol=0.02)
    assert np.allclose(low.mean((1, 2)), images.mean((1, 2)), atol=0.5)
    noisy = D.noise(images, 8.0, seed=2).astype(float) - images
    assert abs(noisy.std() - 8.0) < 0.2 and abs(noisy.mean()) < 0.2
    assert np.array_equal(D.noise(images, 8.0, seed=2), D.noise(images, 8.0, seed=2))


def test_every_disguise_is_seeded_and_keeps_shape_and_dtype():
    images = np.random.default_rng(1).integers(0, 255, (6, 28, 28)).astype(np.uint8)
    for disguise in D.DISGUISES.values():
        a, b = disguise(images, 7), disguise(images, 7)
        assert a.dtype == np.uint8 and a.shape == images.shape and np.array_equal(a, b)
