"""The one training loop every family shares.

A model owns its optimizers and its update (`optimizers()`, `training_step()`),
so the GAN's two-player step and a single-loss model go through the same loop.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor, nn


class SingleLossModel(nn.Module):
    """Base for models trained by minimising one scalar `loss(batch)` with Adam."""

    def loss(self, batch: Tensor) -> Tensor:
        raise NotImplementedError

    def optimizers(self) -> list[torch.optim.Optimizer]:
        return [torch.optim.Adam(self.parameters(), lr=self.config.lr)]

    def training_step(self, batch: Tensor, optimizers: list[torch.optim.Optimizer]) -> dict[str, float]:
        (opt,) = optimizers
        opt.zero_grad()
        loss = self.loss(batch)
        loss.backward()
        opt.step()
        return {"loss": loss.item()}


def image_batches(images: np.ndarray, batch_size: int, seed: int) -> Iterator[Tensor]:
    """Endless uint8 (B, 1, H, W) batches drawn without replacement, epoch by epoch."""
    data = torch.from_numpy(images).unsqueeze(1)  # (N, 1, H, W)
    g = torch.Generator().manual_seed(seed)
    while True:
        for idx in torch.randperm(len(data), generator=g).split(batch_size):
            if len(idx) == batch_size:
                yield data[idx]


def train(model: nn.Module, batches: Iterator[Tensor], steps: int, device: str = "cpu") -> tuple[list[dict], float]:
    """Run `steps` updates; returns (one log row per step, seconds taken)."""
    model.to(device).train()
    optimizers = model.optimizers()
    log = []
    start = time.perf_counter()
    for step in range(steps):
        row = model.training_step(next(batches).to(device), optimizers)
        log.append({"step": step, **row})
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return log, time.perf_counter() - start
