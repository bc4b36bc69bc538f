"""State after a call: the parameters of objects (Call.record_state) against the reference's, and
the trusted twins of a probe's objects (the same networks, weights and optimizers) to compute it."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..feedback import show_tensor
from ..harness.objects import build
from .values import Tol, within

States = Mapping[str, Mapping[str, torch.Tensor]]  # object name -> parameter name -> tensor


def snapshot(**objects: torch.nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """Detached copies of the state_dicts of trusted-side objects, to compare with recorded state."""
    return {name: {k: v.detach().clone() for k, v in obj.state_dict().items()} for name, obj in objects.items()}


def default_init(p: Any, module: torch.nn.Module, *, scale: float = 1.0,
                 dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """A state for `module` drawn as PyTorch initialises nn.Linear (weights and biases uniform in
    +-scale/sqrt(fan_in), scale 1 by default), from the grading's seeded generator `p.generator`, in
    state_dict order, in `dtype`."""
    state = module.state_dict()
    out = {}
    for name, t in state.items():
        fan_in = (t if t.dim() == 2 else state[name.replace("bias", "weight")]).shape[1]  # a bias: its weight's
        u = torch.rand(t.shape, generator=p.generator, dtype=torch.float64) * 2 - 1
        out[name] = (u * (scale / math.sqrt(fan_in))).to(dtype)
    return out


def build_objects(specs: Mapping[str, dict]) -> dict[str, Any]:
    """The trusted twins of a probe's `objects` ({name: spec}, states as tensors, as planned), built in
    order as the sandbox builds them: "mlp" networks and "sgd"/"adam" optimizers (never student code)."""
    built: dict[str, Any] = {}
    for name, spec in specs.items():
        spec, tensors = dict(spec), {}
        for kind in ("state", "params", "grads"):  # {param name: tensor} -> {param name: its key in `tensors`}
            if kind in spec:
                tensors.update({f"{kind}:{k}": v for k, v in spec[kind].items()})
                spec[kind] = {k: f"{kind}:{k}" for k in spec[kind]}
        built[name] = build(spec, tensors, built, None)
    return built


@dataclass
class StateDiff:
    """What differs between two states: (object, parameter, values that differ, values) per parameter."""

    got: States
    expected: States
    tol: Tol
    bad: list[tuple[str, str, int, int]]

    def __bool__(self) -> bool:
        return bool(self.bad)

    @property
    def objects(self) -> list[str]:
        return sorted({obj for obj, *_ in self.bad})

    @property
    def count(self) -> int:
        return sum(n for _, _, n, _ in self.bad)

    @property
    def total(self) -> int:
        return sum(t.numel() for params in self.expected.values() for t in params.values())

    def first(self) -> tuple[str, str, str]:
        """(detail, expected, got) of the first differing parameter, for a CheckFailure."""
        obj, name, *_ = self.bad[0]
        e, g = self.expected[obj][name], self.got[obj].get(name)
        if g is None or g.shape != e.shape:
            return (f"{obj}'s `{name}` is missing or has the wrong shape", show_tensor(e),
                    "missing" if g is None else show_tensor(g))
        index = tuple(int(i) for i in (~within(g, e, self.tol)).nonzero()[0])
        return (f"the first: {obj}'s `{name}` at index {list(index)}: expected {e[index].item():.7g}, "
                f"got {g[index].item():.7g}", show_tensor(e), show_tensor(g))


def compare_states(got: States, expected: States, tol: Tol) -> StateDiff:
    """Every parameter of `expected` (objects in sorted order) checked in `got`; missing or misshapen counts whole."""
    bad = []
    for obj in sorted(expected):
        for name, e in expected[obj].items():
            g = got.get(obj, {}).get(name)
            if g is None or g.shape != e.shape:
                bad.append((obj, name, e.numel(), e.numel()))
                continue
            n = int((~within(g, e, tol)).sum())
            if n:
                bad.append((obj, name, n, e.numel()))
    return StateDiff(got, expected, tol, bad)
