"""The sample grid of a training result, drawn on the trusted side from validated samples."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from reference_models.artifacts import tile


def sample_grid_png(samples: np.ndarray, nrow: int = 8, pad: int = 2) -> str:
    """The first nrow**2 of uint8 (N, H, W) samples as an nrow-wide grid: base64 PNG."""
    grid = tile(samples[: nrow * nrow], nrow, pad)
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
