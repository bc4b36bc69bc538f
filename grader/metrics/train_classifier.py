"""Train the Fashion-MNIST feature classifier and write its weights and card.

    python -m grader.metrics.train_classifier [--epochs 4] [--seed 0] [--out grader/metrics/weights]

Seeded and deterministic on a given machine (torch deterministic algorithms,
fixed shuffling); floating-point results can differ across CPUs and thread
counts, which is why the weights are committed and pinned by their SHA-256.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from grader.metrics.features import (
    FASHION_CNN_CARD,
    FASHION_CNN_WEIGHTS,
    FashionCNN,
    as_unit_batch,
    feature_rms,
    file_sha256,
)
from reference_models.datasets import load_dataset


@torch.no_grad()
def accuracy(net: FashionCNN, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    pred = torch.cat([net(b).argmax(1) for b in x.split(1000)])
    return (pred == y).float().mean().item()


def train_classifier(epochs: int, seed: int, batch_size: int = 128, lr: float = 1e-3) -> tuple[FashionCNN, dict]:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    x, y = (torch.as_tensor(a) for a in load_dataset("fashion-mnist", "train"))
    x = as_unit_batch(x)  # (60000, 1, 28, 28)
    xt, yt = load_dataset("fashion-mnist", "test")
    xt, yt = as_unit_batch(xt), torch.as_tensor(yt)
    net = FashionCNN()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    info = {
        "dataset": "fashion-mnist (Debian dataset-fashion-mnist, 60k train / 10k test)",
        "epochs": epochs, "seed": seed, "batch_size": batch_size, "lr": lr, "optimizer": "Adam",
        "train_seconds": round(time.perf_counter() - start, 1), "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_accuracy": round(accuracy(net, x, y), 4), "test_accuracy": round(accuracy(net, xt, yt), 4),
        "feature_rms": feature_rms(net, x),  # over the training split
    }
    return net, info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.metrics.train_classifier")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=FASHION_CNN_WEIGHTS)
    parser.add_argument("--card", type=Path, default=FASHION_CNN_CARD)
    args = parser.parse_args(argv)
    net, info = train_classifier(args.epochs, args.seed)
    args.weights.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(args.weights))
    card = {"weights": args.weights.name, "sha256": file_sha256(args.weights), "feature_dim": FashionCNN.feature_dim,
            "feature": "128-d bottleneck before its ReLU", **info}
    args.card.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
