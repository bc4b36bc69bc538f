"""The training program of flow-train: RealNVP (reference_models/flow_nets.py) whose coupling layers
run YOUR affine_coupling_forward, and whose loss is YOUR standard_normal_logprob and bits_per_dim.

This file is public and runs in the sandbox beside your solution.py; you do not submit it.
The judge calls `train` in a sandbox with the Fashion-MNIST training split, and scores the
weights it returns itself: it loads them into the same architecture built with the reference
coupling algebra and computes bits/dim on the test split, which never enters a sandbox.

- Each step draws a batch of uint8 images, dequantises them, u = (x + U[0, 1)) / 256, maps u to
  logit space and runs the flow: nine coupling layers (checkerboard masks, a squeeze, channel
  masks, checkerboard masks), each calling your affine_coupling_forward on the flattened image
  with a small conv net as `net`.
- The loss is the batch mean of your bits_per_dim(log p(u), 784), where log p(u) is your
  standard_normal_logprob(z) plus the log-determinants; one Adam step minimises it.
"""
from __future__ import annotations

import math

import solution as student
import torch

from reference_models.flow_nets import RealNVP, RealNVPConfig

DEFAULTS = {"width": 32, "n_couplings": 3, "lr": 1e-3}


def _model(budget) -> RealNVP:
    o = {**DEFAULTS, **budget.options}
    return RealNVP(RealNVPConfig(width=o["width"], n_couplings=o["n_couplings"], lr=o["lr"]), ops=student)


def train(images: torch.Tensor, budget) -> dict[str, torch.Tensor]:
    """images: uint8 (N, 28, 28) on the CPU. Returns the flow's state_dict."""
    torch.manual_seed(budget.seed)  # initial weights and the dequantisation noise
    batches = torch.Generator().manual_seed(budget.seed)  # which images go into each batch
    model = _model(budget).to(budget.device)
    (opt,) = model.optimizers()
    step = 0
    while not budget.should_stop(step):
        idx = torch.randint(len(images), (budget.batch_size,), generator=batches)
        loss = model.loss(images[idx].unsqueeze(1).to(budget.device))  # (B, 1, 28, 28) uint8 -> bits/dim
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss (bits/dim) is {value} at step {step}")
        budget.log(step, loss=value)
        step += 1
    return model.state_dict()
