"""The share of samples the Fashion-MNIST classifier assigns to each class: the board's class chart.

A model that drops a class (mode collapse) shows a bar near 0 beside the data's share.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from grader.metrics.features import FashionCNN, as_unit_batch
from reference_models.datasets import load_dataset

CLASS_NAMES = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
}


@dataclass(frozen=True)
class ClassShares:
    labels: tuple[str, ...]
    shares: tuple[float, ...]  # share of samples predicted as each class; they sum to 1
    data_share: float  # each class's share of the dataset's test split (balanced)

    def as_dict(self) -> dict:
        return {"labels": list(self.labels), "shares": list(self.shares), "data_share": self.data_share}


@torch.no_grad()
def predict(net: FashionCNN, images: np.ndarray | None = None, features: np.ndarray | None = None) -> np.ndarray:
    """Argmax of the classifier's logits (N,), from uint8 images or from its own 128-d features."""
    net.eval()
    if features is not None:
        logits = net.classify(torch.as_tensor(np.asarray(features), dtype=torch.float32))
    else:
        logits = torch.cat([net(b) for b in as_unit_batch(images).split(500)])
    return logits.argmax(1).numpy()


@lru_cache(maxsize=4)
def data_share(dataset: str) -> float:
    """Each class's share of the test split, which must be balanced (Fashion-MNIST: 1,000 per class)."""
    _, labels = load_dataset(dataset, "test")
    counts = np.bincount(labels, minlength=len(CLASS_NAMES[dataset]))
    if counts.min() != counts.max():
        raise ValueError(f"{dataset}'s test split is not balanced: {counts.tolist()}")
    return 1.0 / len(counts)


def class_shares(predicted: np.ndarray, dataset: str = "fashion-mnist") -> ClassShares:
    names = CLASS_NAMES[dataset]
    counts = np.bincount(np.asarray(predicted), minlength=len(names))
    return ClassShares(names, tuple(float(c) for c in counts / counts.sum()), data_share(dataset))
