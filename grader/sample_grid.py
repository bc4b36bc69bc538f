"""The sample grid of a training result, drawn on the trusted side from validated samples."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def sample_grid_png(samples: np.ndarray, nrow: int = 8, pad: int = 2) -> str:
    """The first nrow**2 of uint8 (N, H, W) samples as an nrow-wide grid: base64 PNG."""
    images = samples[: nrow * nrow]
    n, h, w = images.shape
    rows = -(-n // nrow)
    grid = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad), dtype=np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, nrow)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = image
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
