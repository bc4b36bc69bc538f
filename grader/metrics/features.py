"""Feature extractors for FID/KID. The default is a small CNN classifier trained
on Fashion-MNIST by `python -m grader.metrics.train_classifier`; its weights are
committed under weights/ with their SHA-256, which is checked on every load.
Scores computed with it are labelled "FID (Fashion-MNIST features)".
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import Tensor, nn

WEIGHTS_DIR = Path(__file__).with_name("weights")
FASHION_CNN_WEIGHTS = WEIGHTS_DIR / "fashion_cnn.safetensors"
FASHION_CNN_CARD = WEIGHTS_DIR / "fashion_cnn.json"  # SHA-256, test accuracy, how it was trained


class FashionCNN(nn.Module):
    """Two conv blocks and a 128-d bottleneck; the bottleneck (before its ReLU) is the feature."""

    feature_dim = 128

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(),
        )
        self.embed = nn.Linear(64 * 7 * 7, self.feature_dim)
        self.classify = nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(self.feature_dim, 10))

    def features(self, x: Tensor) -> Tensor:
        """x float (B, 1, 28, 28) in [0, 1] -> (B, 128)."""
        return self.embed(self.conv(x - 0.5))

    def forward(self, x: Tensor) -> Tensor:
        return self.classify(self.features(x))  # (B, 10) logits


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def as_unit_batch(images: np.ndarray | Tensor) -> Tensor:
    """uint8 (N, H, W) or (N, 1, H, W) -> float32 (N, 1, H, W) in [0, 1]; anything else is an error."""
    x = torch.as_tensor(np.asarray(images))
    if x.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images, got {x.dtype}")
    if x.dim() == 3:
        x = x[:, None]
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"expected (N, H, W) or (N, 1, H, W) grayscale images, got {tuple(x.shape)}")
    return x.float() / 255.0


@dataclass
class FeatureExtractor:
    """A network, its name, and the SHA-256 of its weights (the cache key of reference statistics)."""

    name: str
    sha256: str
    net: nn.Module
    label: str  # how scores computed with it are named
    batch_size: int = 500
    # KID's kernel (x.y / d + 1)^3 assumes feature entries of order 1 (as Inception's pool
    # features are); features are divided by this before KID.
    kid_scale: float = 1.0

    @torch.no_grad()
    def __call__(self, images: np.ndarray | Tensor) -> np.ndarray:
        """uint8 images -> float64 features (N, D), batch by batch on the CPU."""
        x = as_unit_batch(images)
        self.net.eval()
        return torch.cat([self.net.features(b) for b in x.split(self.batch_size)]).double().numpy()


def fashion_extractor(weights: Path = FASHION_CNN_WEIGHTS, card: Path = FASHION_CNN_CARD) -> FeatureExtractor:
    """The default extractor; refuses weights whose SHA-256 differs from the card's."""
    if not Path(weights).is_file():
        raise FileNotFoundError(f"{weights} missing: run `python -m grader.metrics.train_classifier`")
    info = json.loads(Path(card).read_text())
    actual = file_sha256(weights)
    if actual != info["sha256"]:
        raise ValueError(f"{weights}: SHA-256 {actual} does not match {card} ({info['sha256']})")
    net = FashionCNN()
    net.load_state_dict(load_file(str(weights)))
    return FeatureExtractor(name="fashion-cnn", sha256=actual, net=net.eval(), label="FID (Fashion-MNIST features)",
                            kid_scale=info["feature_rms"])


@torch.no_grad()
def feature_rms(net: FashionCNN, x: Tensor) -> float:
    """Root mean square of the feature entries over `x` (float (N, 1, 28, 28)): the KID scale."""
    net.eval()
    f = torch.cat([net.features(b) for b in x.split(1000)]).double()
    return round(f.pow(2).mean().sqrt().item(), 4)
