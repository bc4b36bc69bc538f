"""Unit-norm Fashion-MNIST classifier features of a dataset split, cached as NPZ, for the
memorisation check's feature space: L2 distance between unit vectors, i.e. cosine distance,
as in MiFID (Bai et al. 2021) and the authenticity test of Alaa et al. 2022."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from grader.metrics.features import FeatureExtractor, fashion_extractor
from grader.metrics.reference import cache_dir
from reference_models.datasets import load_dataset


def unit_features(images_uint8: np.ndarray, extractor: FeatureExtractor | None = None) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, D) classifier features scaled to unit L2 norm."""
    f = torch.from_numpy((extractor or _extractor())(np.ascontiguousarray(images_uint8))).float()
    return f / f.norm(dim=1, keepdim=True).clamp_min(1e-12)


@lru_cache(maxsize=1)
def _extractor() -> FeatureExtractor:
    return fashion_extractor()


def split_features(dataset: str, split: str, cache: Path | None = None) -> torch.Tensor:
    """A split's unit features, computed once (about 40 s for 60,000 images on 2 cores) and cached."""
    extractor = _extractor()
    path = (cache or cache_dir()) / f"{dataset}-{split}-unit-features-{extractor.name}-{extractor.sha256[:16]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return torch.from_numpy(f["features"])
    images, _ = load_dataset(dataset, split)
    features = unit_features(images, extractor)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(partial, features=features.numpy())
    partial.replace(path)
    return features
