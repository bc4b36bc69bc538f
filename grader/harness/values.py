"""Turning probe arguments into Python values, and results into JSON + tensors."""
from __future__ import annotations

import math

import torch

MAX_DEPTH = 4
MAX_ITEMS = 64
MAX_PROBE_BYTES = 8 * 1024 * 1024  # per probe; the judge never needs more


class Encoder:
    """Encodes returned values as JSON, collecting tensors for one safetensors blob."""

    def __init__(self, prefix: str, budget_bytes: int = MAX_PROBE_BYTES):
        self.prefix = prefix
        self.budget = budget_bytes
        self.tensors: dict[str, torch.Tensor] = {}

    def tensor(self, t: torch.Tensor) -> dict:
        key = f"{self.prefix}/{len(self.tensors)}"
        # Plain-tensor view with torch-function overrides off: a returned tensor
        # subclass cannot change what we read or how we serialise it.
        with torch._C.DisableTorchFunction():
            plain = t.as_subclass(torch.Tensor).detach()
            info = {"tensor": key, "dtype": str(plain.dtype).removeprefix("torch."), "shape": list(plain.shape),
                    "device": plain.device.type, "requires_grad": bool(t.requires_grad)}
            if plain.is_complex() or plain.is_quantized or plain.is_sparse or plain.layout != torch.strided:
                return {**info, "tensor": None, "unsupported": "complex, quantized or non-strided tensor"}
            size = plain.numel() * plain.element_size()
            if size > self.budget:
                return {**info, "tensor": None, "unsupported": f"too large to send back ({size / 1e6:.0f} MB)"}
            self.budget -= size
            self.tensors[key] = plain.to("cpu").contiguous().clone()
        return info

    def value(self, v, depth: int = 0) -> dict:
        try:
            return self._value(v, depth)
        except Exception as exc:  # a hostile object whose methods raise
            return {"object": f"unreadable value ({type(exc).__name__})"}

    def _value(self, v, depth: int) -> dict:
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
            return {"dict": {str(k)[:100]: self._value(x, depth + 1) for k, x in items}}
        if depth < MAX_DEPTH and isinstance(v, (list, tuple)):
            return {"list": [self._value(x, depth + 1) for x in list(v)[:MAX_ITEMS]], "tuple": isinstance(v, tuple)}
        return {"object": type(v).__qualname__[:100]}


def resolve(ref: dict, tensors: dict[str, torch.Tensor], objects: dict):
    """A probe argument: {"tensor": name}, {"value": json} or {"object": name}."""
    if "tensor" in ref:
        return tensors[ref["tensor"]].clone()
    if "object" in ref:
        return objects[ref["object"]]
    return ref.get("value")
