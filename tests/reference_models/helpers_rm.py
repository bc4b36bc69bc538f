"""Shared helpers for the reference-model smoke tests: tiny data, a short run."""
from __future__ import annotations

import torch

from reference_models.datasets import load_dataset
from reference_models.training import image_batches, train


def digits_batches(batch_size: int = 32, seed: int = 0):
    images, _ = load_dataset("digits", "train")  # (1500, 8, 8) uint8
    return image_batches(images, batch_size, seed)


def losses_fall(model, steps: int, key: str = "loss", window: int = 5) -> tuple[float, float]:
    """Train on 8x8 digits; (mean of the first, mean of the last `window` losses)."""
    torch.manual_seed(0)
    log, _ = train(model, digits_batches(), steps)
    values = [row[key] for row in log]
    return sum(values[:window]) / window, sum(values[-window:]) / window
