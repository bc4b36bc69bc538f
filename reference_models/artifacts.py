"""What a training run leaves behind: a safetensors checkpoint with its config,
a sample grid PNG, and the loss curve as CSV and PNG."""
from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn


def save_checkpoint(path: Path, family: str, model: nn.Module, extra: dict | None = None) -> None:
    """Weights as safetensors; family, config and `extra` as JSON in the header metadata."""
    meta = {"family": family, "config": json.dumps(dataclasses.asdict(model.config)), "extra": json.dumps(extra or {})}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata=meta)


def load_model(path: Path) -> tuple[str, nn.Module, dict]:
    """(family name, model in eval mode on the CPU, extra) from a checkpoint. Never unpickles."""
    from reference_models.families import FAMILIES

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    family = FAMILIES[meta["family"]]
    model = family.model(family.config(**json.loads(meta["config"])))
    model.load_state_dict(load_file(str(path)))
    return meta["family"], model.eval(), json.loads(meta["extra"])


def tile(images: np.ndarray, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """uint8 (N, H, W) -> one uint8 image with `nrow` images per row (default: a square), `pad` px apart."""
    N, H, W = images.shape
    nrow = nrow or math.ceil(math.sqrt(N))
    ncol = math.ceil(N / nrow)
    grid = np.zeros((ncol * (H + pad) + pad, nrow * (W + pad) + pad), dtype=np.uint8)
    for k in range(N):
        r, c = divmod(k, nrow)
        grid[pad + r * (H + pad) : pad + r * (H + pad) + H, pad + c * (W + pad) : pad + c * (W + pad) + W] = images[k]
    return grid


def save_grid(images: Tensor, path: Path, nrow: int | None = None, pad: int = 2) -> None:
    """uint8 (N, 1, H, W) -> one grayscale PNG, `nrow` images per row."""
    x = images.cpu().numpy()[:, 0]  # (N, H, W)
    grid = tile(x, nrow, pad)
    H, W = x.shape[1:]
    scale = max(1, 256 // max(H, W) // 2)  # make 8x8 images visible
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(path)


def save_loss_curve(log: list[dict], csv_path: Path, png_path: Path) -> None:
    """One CSV row per step; a PNG with one line per logged quantity."""
    keys = list(log[0])
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(log)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [row["step"] for row in log]
    for key in keys[1:]:
        ax.plot(steps, [row[key] for row in log], label=key, linewidth=0.8)
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
