"""Seeded disguises of uint8 (N, 28, 28) images: what a submission that returns stored
dataset images might do to hide them from the memorisation check. Used to calibrate and
test that check (docs/metrics.md).

Elastic warps follow Simard et al. 2003 ("Best practices for CNNs applied to visual
document analysis"): a random displacement field smoothed by a Gaussian, here scaled so
that its root-mean-square length is the requested magnitude in pixels, then bilinear
resampling (torch's grid_sample). Each function takes a `seed`; the same seed gives the
same output.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

SMOOTH_SIGMA = 4.0  # px: the Gaussian that smooths the displacement field (Simard et al. use 4 to 6)


def _float(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).float()[:, None]  # (N, 1, H, W) in 0..255


def _uint8(x: torch.Tensor) -> np.ndarray:
    return x[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with replicated borders."""
    r = int(math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    k = (k / k.sum()).to(x.dtype)
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def displacement_field(n: int, h: int, w: int, magnitude: float, seed: int,
                       sigma: float = SMOOTH_SIGMA) -> torch.Tensor:
    """A smooth random displacement field in pixels, float32 (N, 2, H, W) as (dy, dx); each
    image's root-mean-square displacement length is `magnitude`."""
    g = torch.Generator().manual_seed(seed)
    field = _gaussian_blur(torch.randn(n, 2, h, w, generator=g), sigma)
    rms = field.pow(2).sum(1).mean((1, 2)).sqrt().clamp_min(1e-12)
    return field * (magnitude / rms)[:, None, None, None]


def _resample(x: torch.Tensor, source_y: torch.Tensor, source_x: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of (N, 1, H, W) at pixel coordinates (N, H, W); zero outside the frame."""
    h, w = x.shape[-2:]
    grid = torch.stack([source_x * 2 / (w - 1) - 1, source_y * 2 / (h - 1) - 1], dim=-1)  # align_corners=True
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def warp(images: np.ndarray, field: torch.Tensor) -> np.ndarray:
    """Each output pixel p takes the input's value at p + field[p] (bilinear)."""
    x = _float(images)
    h, w = x.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    return _uint8(_resample(x, yy + field[:, 0], xx + field[:, 1]))


def elastic(images: np.ndarray, magnitude: float, seed: int = 0) -> np.ndarray:
    """A smooth elastic warp with RMS displacement `magnitude` pixels."""
    n, h, w = images.shape
    return warp(images, displacement_field(n, h, w, magnitude, seed))


def rotate(images: np.ndarray, degrees: float, seed: int = 0) -> np.ndarray:
    """Rotated about the centre by `degrees`, clockwise or anticlockwise at random per image."""
    n, h, w = images.shape
    g = torch.Generator().manual_seed(seed)
    sign = torch.randint(0, 2, (n,), generator=g).float() * 2 - 1
    a = (sign * math.radians(degrees))[:, None, None]
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32) - (h - 1) / 2,
                            torch.arange(w, dtype=torch.float32) - (w - 1) / 2, indexing="ij")
    source_y = torch.cos(a) * yy - torch.sin(a) * xx + (h - 1) / 2
    source_x = torch.sin(a) * yy + torch.cos(a) * xx + (w - 1) / 2
    return _uint8(_resample(_float(images), source_y, source_x))


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Moved by whole pixels (dy down, dx right), zero-filled: what leaves the frame is cropped."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def random_shifts(images: np.ndarray, low: int = 1, high: int = 2, seed: int = 0) -> np.ndarray:
    """Each image moved by its own random whole-pixel shift with low <= max(|dy|, |dx|) <= high, cropped."""
    rng = np.random.default_rng(seed)
    moves = [(dy, dx) for dy in range(-high, high + 1) for dx in range(-high, high + 1) if max(abs(dy), abs(dx)) >= low]
    choice = rng.integers(len(moves), size=len(images))
    out = np.empty_like(images)
    for k, (dy, dx) in enumerate(moves):
        mask = choice == k
        out[mask] = shift(images[mask], dy, dx)
    return out


def brightness_contrast(images: np.ndarray, brightness: float = 0.0, contrast: float = 1.0) -> np.ndarray:
    """contrast * (x - mean) + mean + brightness * 255 per image, clipped to 0..255."""
    x = images.astype(np.float32)
    mean = x.mean((1, 2), keepdims=True)
    return np.clip(np.round(contrast * (x - mean) + mean + 255.0 * brightness), 0, 255).astype(np.uint8)


def noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise of standard deviation `std` (in 0..255 units), rounded and clipped."""
    rng = np.random.default_rng(seed)
    return np.clip(np.round(images + rng.normal(0.0, std, images.shape)), 0, 255).astype(np.uint8)


def the_issues_disguise(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """What the submission in the issue did: a 0.5 px elastic warp, a brightness change, noise (3/255)."""
    return noise(brightness_contrast(elastic(images, 0.5, seed), brightness=0.04), 3.0, seed + 1)


# name -> disguise(images, seed): the rows of docs/metrics.md's table
DISGUISES = {
    "elastic 0.5 px": lambda x, s: elastic(x, 0.5, s),
    "elastic 1 px": lambda x, s: elastic(x, 1.0, s),
    "elastic 2 px": lambda x, s: elastic(x, 2.0, s),
    "rotated 5°": lambda x, s: rotate(x, 5.0, s),
    "rotated 10°": lambda x, s: rotate(x, 10.0, s),
    "shifted 1-2 px, cropped": lambda x, s: random_shifts(x, 1, 2, s),
    "brightness +10%": lambda x, s: brightness_contrast(x, brightness=0.1),
    "contrast 70%": lambda x, s: brightness_contrast(x, contrast=0.7),
    "contrast 130%": lambda x, s: brightness_contrast(x, contrast=1.3),
    "noise σ = 8/255": lambda x, s: noise(x, 8.0, s),
    "noise σ = 16/255": lambda x, s: noise(x, 16.0, s),
    "elastic 0.5 px, brightness +4%, noise 3/255 (the issue's)": the_issues_disguise,
    "elastic 1 px, rotated 5°, contrast 80%, noise 8/255": lambda x, s: noise(
        brightness_contrast(rotate(elastic(x, 1.0, s), 5.0, s + 1), contrast=0.8), 8.0, s + 2),
    "elastic 1 px, shifted 1-2 px, mirrored": lambda x, s: random_shifts(elastic(x, 1.0, s), 1, 2, s + 1)[:, :, ::-1],
}
