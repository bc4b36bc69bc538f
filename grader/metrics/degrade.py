"""Controlled corruptions of uint8 images, for sanity checks of a metric:
a sound FID rises monotonically with blur and with noise strength."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (radius 3 sigma, reflect padding) of uint8 (N, H, W)."""
    if sigma <= 0:
        return images.copy()
    radius = max(1, int(np.ceil(3 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
    k = k / k.sum()
    x = torch.from_numpy(images.astype(np.float32))[:, None]  # (N, 1, H, W)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1))
    return x[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()


def gaussian_noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Add N(0, std^2) noise (std in 0..255 units) and clip to uint8."""
    noise = np.random.default_rng(seed).normal(0.0, std, images.shape)
    return np.clip(np.round(images + noise), 0, 255).astype(np.uint8)
