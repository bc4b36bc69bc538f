"""The training split as the training sandbox sees it: one folder per dataset holding
only `train.safetensors` (a uint8 tensor `images`, (N, H, W)), bind-mounted read-only
at /data. The test split is never written here: FID is computed against it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from reference_models.datasets import load_dataset

from .spec import REPO_ROOT

DATA_ROOT_ENV = "DGM_TRAINING_DATA"
CONTAINER_DIR = "/data"
FILENAME = "train.safetensors"


@dataclass(frozen=True)
class TrainingData:
    folder: Path  # mounted at CONTAINER_DIR
    image_shape: tuple[int, int]

    @property
    def container_path(self) -> str:
        return f"{CONTAINER_DIR}/{FILENAME}"


def data_root() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV, REPO_ROOT / "var" / "training-data"))


def prepare_training_split(dataset: str) -> TrainingData:
    """Write `dataset`'s training split once (atomically: a concurrent worker sees the
    whole file or none) and return where it is."""
    folder = data_root() / dataset
    path = folder / FILENAME
    if not path.is_file():
        images, _ = load_dataset(dataset, "train")  # uint8 (N, H, W)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # whatever the worker's umask: the sandbox user must list it
        partial = folder.parent / f".{dataset}.{os.getpid()}.tmp"  # outside the mounted folder
        save_file({"images": torch.from_numpy(images)}, str(partial))
        os.chmod(partial, 0o644)  # the sandbox user must read it
        partial.replace(path)
    with safe_open(str(path), framework="pt") as f:
        shape = f.get_slice("images").get_shape()
    return TrainingData(folder, (int(shape[1]), int(shape[2])))
