"""Turning probe arguments into Python values, and results into JSON + tensors."""
from __future__ import annotations

import math

import torch

MAX_DEPTH = 4
MAX_ITEMS = 64


class Encoder:
    """Encodes returned values as JSON, collecting tensors for one safetensors blob."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.tensors: dict[str, torch.Tensor] = {}

    def tensor(self, t: torch.Tensor) -> dict:
        key = f"{self.prefix}/{len(self.tensors)}"
        info = {
            "tensor": key,
            "dtype": str(t.dtype).removeprefix("torch."),
            "shape": list(t.shape),
            "device": t.device.type,
            "requires_grad": bool(t.requires_grad),
            "is_view_of_input": False,
        }
        data = t.detach()
        if data.is_complex() or data.is_quantized or data.is_sparse or data.layout != torch.strided:
            return {**info, "tensor": None, "unsupported": "complex, quantized or non-strided tensor"}
        self.tensors[key] = data.to("cpu").contiguous().clone()
        return info

    def value(self, v, depth: int = 0) -> dict:
        if isinstance(v, torch.Tensor):
            return self.tensor(v)
        if v is None:
            return {"none": True}
        if isinstance(v, bool):
            return {"bool": v}
        if isinstance(v, int):
            return {"int": v} if abs(v) < 2**63 else {"float": float(v)}
        if isinstance(v, float):
            return {"float": v} if math.isfinite(v) else {"float": repr(v)}
        if isinstance(v, str):
            return {"str": v[:200]}
        if depth < MAX_DEPTH and isinstance(v, dict):
            items = list(v.items())[:MAX_ITEMS]
            return {"dict": {str(k)[:100]: self.value(x, depth + 1) for k, x in items}}
        if depth < MAX_DEPTH and isinstance(v, (list, tuple)):
            return {"list": [self.value(x, depth + 1) for x in list(v)[:MAX_ITEMS]], "tuple": isinstance(v, tuple)}
        return {"object": type(v).__qualname__[:100]}


def resolve(ref: dict, tensors: dict[str, torch.Tensor], objects: dict):
    """A probe argument: {"tensor": name}, {"value": json} or {"object": name}."""
    if "tensor" in ref:
        return tensors[ref["tensor"]].clone()
    if "object" in ref:
        return objects[ref["object"]]
    return ref.get("value")
