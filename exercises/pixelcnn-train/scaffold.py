"""The training program of pixelcnn-train: a PixelCNN (reference_models/pixelcnn_nets.py) built
from YOUR MaskedConv2d and trained on YOUR pixel_nll_bits_per_dim.

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
The judge calls `train` in a sandbox with the Fashion-MNIST training split, and scores the
weights it returns itself: it loads each layer's `weight` and `bias` into the same architecture
built with the reference MaskedConv2d (its own masks, never yours) and computes the exact
bits/dim of the test split, which never enters a sandbox.

- The network: one type-A MaskedConv2d (7x7, 1 -> width channels), then n_layers residual
  type-B MaskedConv2d layers (3x3), then two 1x1 convolutions to 256 logits per pixel.
- Each step draws a batch of uint8 images; the loss is your
  pixel_nll_bits_per_dim(logits (B, 256, 1, 28, 28), x (B, 1, 28, 28) int64), and one Adam step
  minimises it. A mask that lets a pixel see itself makes this loss fall fast and the judge's
  bits/dim, with the reference masks, bad.
"""
from __future__ import annotations

import math

import solution as student
import torch

from reference_models.pixelcnn_nets import PixelCNN, PixelCNNConfig

DEFAULTS = {"width": 32, "n_layers": 4, "lr": 1e-3}


def _model(budget) -> PixelCNN:
    o = {**DEFAULTS, **budget.options}
    config = PixelCNNConfig(width=o["width"], n_layers=o["n_layers"], lr=o["lr"])
    return PixelCNN(config, conv=student.MaskedConv2d)


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (N, 28, 28) on the CPU. Returns the PixelCNN's state_dict."""
    torch.manual_seed(budget.seed)  # initial weights
    batches = torch.Generator().manual_seed(budget.seed)  # which images go into each batch
    model = _model(budget).to(budget.device)
    (opt,) = model.optimizers()
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        x = images[idx].unsqueeze(1).to(budget.device)  # (B, 1, 28, 28) uint8
        logits = model(x).unsqueeze(2)  # (B, 256, 1, 28, 28): one channel
        loss = student.pixel_nll_bits_per_dim(logits, x.long())
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss (bits/dim) is {value} at step {step}")
        budget.log(step, loss=value)
        step += 1
    return model.state_dict()
