"""Registry of the model families the CLI can train and sample."""
from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass

from reference_models.ddpm import DDPM, DDPMConfig
from reference_models.flow import RealNVP, RealNVPConfig
from reference_models.gan import DCGAN, DCGANConfig
from reference_models.pixelcnn import PixelCNN, PixelCNNConfig
from reference_models.transformer import CharTransformer, TransformerConfig
from reference_models.vae import ConvVAE, VAEConfig


@dataclass(frozen=True)
class Family:
    model: type
    config: type
    data: str = "images"  # "images": uint8 (B, 1, H, W) batches; "text": (B, L + 1) token ids


FAMILIES: dict[str, Family] = {
    "vae": Family(ConvVAE, VAEConfig),
    "dcgan": Family(DCGAN, DCGANConfig),
    "ddpm": Family(DDPM, DDPMConfig),
    "transformer": Family(CharTransformer, TransformerConfig, data="text"),
    "realnvp": Family(RealNVP, RealNVPConfig),
    "pixelcnn": Family(PixelCNN, PixelCNNConfig),
}


def make_config(family: Family, overrides: dict[str, object]):
    """The family's config dataclass with `overrides` applied; unknown keys are an error."""
    names = {f.name for f in dataclasses.fields(family.config)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown config fields {sorted(unknown)}; known: {sorted(names)}")
    return family.config(**overrides)


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    """["width=16", "schedule='cosine'"] -> {"width": 16, "schedule": "cosine"}; bare words stay strings."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out
