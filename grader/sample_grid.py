"""The sample grid of a training result, drawn on the trusted side from validated samples."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from reference_models.artifacts import tile


def sample_grid_png(samples: np.ndarray, nrow: int = 8, pad: int = 2) -> str:
    """The first nrow**2 of uint8 (N, H, W) samples as an nrow-wide grid: base64 PNG."""
    return png_base64(tile(samples[: nrow * nrow], nrow, pad))


def png_base64(image: np.ndarray) -> str:
    """A uint8 (H, W) image as a base64 PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pairs_png(left: np.ndarray, right: np.ndarray, pad: int = 2) -> str:
    """Row k shows left[k] beside right[k] (uint8 (K, H, W) each): base64 PNG, "" if K == 0."""
    if len(left) == 0:
        return ""
    return png_base64(tile(np.stack([left, right], 1).reshape(-1, *left.shape[1:]), 2, pad))
