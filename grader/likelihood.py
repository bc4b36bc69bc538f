"""Likelihood boards (DESIGN.md §3): bits/dim of the held-out test split, computed by the judge.

The test split never enters a sandbox. The checkpoint that training returned (safetensors,
weights only, already re-serialised by training_outputs.read_checkpoint) is loaded into the
scaffold's architecture, built here from reference_models' family with the *reference*
implementation (a flow's coupling algebra, PixelCNN's masks), and evaluated on the trusted side.
A submission whose functions train a model the reference algebra does not describe (a log-det
with the wrong sign, a mask that lets a pixel see itself) therefore scores as badly as its model
really is. Only the architecture's parameters are read: buffers such as masks come from the
reference construction, whatever the checkpoint holds.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from torch import nn

from reference_models.datasets import load_dataset

from .metrics.reference import part_indices
from .spec import LIKELIHOOD_FAMILIES

EVAL_BATCH = 250
Z_95 = 1.959964  # two-sided 95 % normal quantile


class CheckpointMismatch(ValueError):
    """The checkpoint does not fit the scaffold's architecture; the message is for the student."""


@dataclass(frozen=True)
class LikelihoodScore:
    label: str  # e.g. "bits/dim (Fashion-MNIST test)"
    bits_per_dim: float  # mean over the n evaluated test images; lower is better
    interval: tuple[float, float]  # 95 % normal interval of that mean over images
    n: int  # test images evaluated (the profile's n_samples)
    reference_part: str | None  # "public", "private" or None: the whole split

    def board(self) -> dict:
        """The training block's board fields, named as an FID board's so the platform ranks either."""
        finite = math.isfinite(self.bits_per_dim)
        return {"fid": self.bits_per_dim if finite else None, "fid_label": self.label,
                "fid_interval": list(self.interval) if finite else None, "kid": None, "kid_std": None,
                "reference_part": self.reference_part}


def reference_module(family: str) -> str:
    """The reference_models module whose model (image_bits_per_dim(batch, generator), sample(n, generator))
    scores `family`. Imported by name, so an exercise's version covers only its own family's module
    (grader/spec.grading_files adds it)."""
    if family not in LIKELIHOOD_FAMILIES:
        raise ValueError(f"no likelihood board for family {family!r}; known: {list(LIKELIHOOD_FAMILIES)}")
    return LIKELIHOOD_FAMILIES[family][0]


def build_model(family: str, options: dict) -> Any:
    """The family's reference model, configured from budget.options (the keys its config has)."""
    module = importlib.import_module(reference_module(family))
    model, config = (getattr(module, name) for name in LIKELIHOOD_FAMILIES[family][1:])
    names = {f.name for f in dataclasses.fields(config)}
    return model(config(**{k: v for k, v in options.items() if k in names}))


def load_weights(model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy every parameter of `model` from `tensors` (same name, same shape, floating point).
    Other entries (mask buffers, extras) are ignored. Raises CheckpointMismatch."""
    params = dict(model.named_parameters())
    missing = [name for name in params if name not in tensors]
    if missing:
        raise CheckpointMismatch(f"it has no {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} "
                                 "(return the state_dict of the scaffold's model)")
    for name, param in params.items():
        value = tensors[name]
        if tuple(value.shape) != tuple(param.shape) or not value.is_floating_point():
            raise CheckpointMismatch(f"its {name} is a {value.dtype} tensor of shape {tuple(value.shape)}, the "
                                     f"architecture's is {param.dtype} of shape {tuple(param.shape)}")
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(tensors[name].to(param.dtype))


def held_out_images(dataset: str, part: str | None, n: int) -> np.ndarray:
    """The first n images of the test split's `part` (metrics.reference's parts): uint8 (n, H, W)."""
    images, _ = load_dataset(dataset, "test")
    chosen = images[part_indices(part)]
    if len(chosen) < n:
        raise ValueError(f"the {part or 'whole'} test split has {len(chosen)} images; the profile asks for {n}")
    return chosen[:n]


@torch.no_grad()
def per_image_bits(model: Any, images: np.ndarray, seed: int) -> np.ndarray:
    """(n,) float64 bits/dim of uint8 (n, H, W) images; a flow's dequantisation noise is seeded."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    batches = torch.from_numpy(images).unsqueeze(1).split(EVAL_BATCH)  # (B, 1, H, W) each
    return torch.cat([model.image_bits_per_dim(b, generator) for b in batches]).double().numpy()


DATASET_TITLES = {"fashion-mnist": "Fashion-MNIST"}  # in the board's label; other datasets by their name


def score_checkpoint(checkpoint: bytes, *, family: str, options: dict, dataset: str, n: int,
                     part: str | None, seed: int) -> tuple[LikelihoodScore, Any]:
    """Bits/dim of the first n images of the test split's `part` under the checkpoint's weights in the
    reference model. Raises CheckpointMismatch."""
    model = build_model(family, options)
    load_weights(model, load_tensors(checkpoint))
    bits = per_image_bits(model, held_out_images(dataset, part, n), seed)
    mean = float(bits.mean())
    half = Z_95 * float(bits.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    label = f"bits/dim ({DATASET_TITLES.get(dataset, dataset)} test)"
    return LikelihoodScore(label, mean, (mean - half, mean + half), n, part), model


@torch.no_grad()
def preview_samples(model: Any, n: int, seed: int) -> np.ndarray:
    """n samples of the reference model with the loaded weights, uint8 (n, H, W), for the result's grid."""
    model.eval()
    return model.sample(n, generator=torch.Generator().manual_seed(seed))[:, 0].numpy()
