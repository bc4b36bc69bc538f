import numpy as np

from grader.metrics.degrade import gaussian_blur, gaussian_noise


def test_blur_keeps_mass_and_constants_and_noise_has_the_asked_std():
    flat = np.full((2, 28, 28), 100, np.uint8)
    np.testing.assert_array_equal(gaussian_blur(flat, 1.5), flat)
    spike = np.zeros((1, 28, 28), np.uint8)
    spike[0, 14, 14] = 255
    blurred = gaussian_blur(spike, 1.0)
    assert blurred.max() < 100 and abs(int(blurred.sum()) - 255) < 15
    noisy = gaussian_noise(flat, 10.0, seed=0)
    assert noisy.dtype == np.uint8 and abs(noisy.astype(float).std() - 10.0) < 0.5
