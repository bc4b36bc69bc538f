"""Planning probes: the inputs and calls the judge asks the sandbox to run.

Checks plan on the trusted side with a seeded generator; the planner keeps the
actual tensors (so checks compute expected values from the same inputs) and
turns the plan into a job: JSON for the calls, one safetensors blob for inputs.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors.torch import save as save_tensors


@dataclass(frozen=True)
class TensorRef:
    name: str
    value: torch.Tensor

    def describe(self) -> str:
        return f"{tuple(self.value.shape)} {str(self.value.dtype).removeprefix('torch.')}"


@dataclass(frozen=True)
class ObjectRef:
    name: str


@dataclass
class Call:
    """One call inside a probe: a module-level function `fn`, or an object built by the probe."""

    fn: str | None = None
    object: str | None = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    seed: int | None = None
    repeat: int = 1
    grad_wrt: tuple = ()  # positions (int) or keyword names (str) of tensors to differentiate
    upstream: TensorRef | None = None
    record_state: tuple = ()
    draw_after: int = 0  # the harness then draws this many numbers from torch's global generator (reseeding shows)
    # objects whose parameters' gradients of the result, d(sum(param_upstream * result))/d parameter, come back
    # (by torch.autograd.grad: is the result differentiable in them, e.g. through create_graph?)
    param_grads: tuple = ()
    param_upstream: TensorRef | None = None
    record_grad: tuple = ()  # objects whose parameters' `.grad` come back as the call left them (None or a tensor)

    def describe(self) -> str:
        def show(v: Any) -> str:
            if isinstance(v, TensorRef):
                return f"tensor {v.describe()}"
            if isinstance(v, ObjectRef):
                return v.name
            return repr(v)

        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"{self.fn or self.object}({', '.join(parts)})"


def _ref(value: Any) -> dict:
    if isinstance(value, TensorRef):
        return {"tensor": value.name}
    if isinstance(value, ObjectRef):
        return {"object": value.name}
    json.dumps(value)  # plain values must be JSON
    return {"value": value}


class Planner:
    def __init__(self, seed: int):
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self.tensors: dict[str, torch.Tensor] = {}
        self.probes: dict[str, dict] = {}
        self.descriptions: dict[str, list[str]] = {}
        self._shared: dict[str, Any] = {}

    # inputs -----------------------------------------------------------------
    def add(self, value: torch.Tensor) -> TensorRef:
        name = f"in{len(self.tensors)}"
        self.tensors[name] = value.detach().contiguous().clone()
        return TensorRef(name, self.tensors[name])

    def randn(self, *shape: int, dtype=torch.float32, mean: float = 0.0, std: float = 1.0) -> TensorRef:
        x = torch.randn(*shape, generator=self.generator, dtype=torch.float64) * std + mean
        return self.add(x.to(dtype))

    def uniform(self, *shape: int, low: float = 0.0, high: float = 1.0, dtype=torch.float32) -> TensorRef:
        x = torch.rand(*shape, generator=self.generator, dtype=torch.float64) * (high - low) + low
        return self.add(x.to(dtype))

    def randint(self, low: int, high: int, *shape: int) -> TensorRef:
        return self.add(torch.randint(low, high, shape, generator=self.generator, dtype=torch.int64))

    def next_seed(self) -> int:
        return int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator))

    def shared(self, key: str, build: Callable[[Planner], Any]) -> Any:
        """Plan something once per grading and share it between checks (e.g. one large sample)."""
        if key not in self._shared:
            self._shared[key] = build(self)
        return self._shared[key]

    # probes -----------------------------------------------------------------
    def call(self, probe_id: str, fn: str, *args: Any, **kwargs: Any) -> str:
        """Shorthand for a probe of one call to a module-level function."""
        return self.probe(probe_id, [Call(fn=fn, args=args, kwargs=kwargs)])

    def probe(self, probe_id: str, calls: list[Call], objects: dict[str, dict] | None = None) -> str:
        spec: dict[str, Any] = {"id": probe_id, "objects": {}, "calls": []}
        for name, obj in (objects or {}).items():
            obj = dict(obj)
            for tensors in ("state", "params", "grads"):  # {param name: tensor} -> {param name: input name}
                if tensors in obj:
                    obj[tensors] = {k: self.add(v).name for k, v in obj[tensors].items()}
            spec["objects"][name] = obj
        for call in calls:
            entry: dict[str, Any] = {
                "args": [_ref(a) for a in call.args],
                "kwargs": {k: _ref(v) for k, v in call.kwargs.items()},
                "repeat": call.repeat,
                "record_state": list(call.record_state),
            }
            if call.param_grads:
                entry["param_grads"] = {"of": list(call.param_grads),
                                        "upstream": call.param_upstream.name if call.param_upstream else None}
            if call.record_grad:
                entry["record_grad"] = list(call.record_grad)
            if call.fn is not None:
                entry["fn"] = call.fn
            else:
                entry["object"] = call.object
            if call.seed is not None:
                entry["seed"] = call.seed
            if call.draw_after:
                entry["draw_after"] = int(call.draw_after)
            if call.grad_wrt:
                entry["grad"] = {"wrt": list(call.grad_wrt), "upstream": call.upstream.name if call.upstream else None}
            spec["calls"].append(entry)
        if probe_id in self.probes:
            raise ValueError(f"probe {probe_id!r} planned twice")
        self.probes[probe_id] = spec
        self.descriptions[probe_id] = [c.describe() for c in calls]
        return probe_id

    def job(self, **extra: Any) -> tuple[dict, bytes]:
        used = {n: t for n, t in self.tensors.items()}
        return {"probes": list(self.probes.values()), **extra}, (save_tensors(used) if used else b"")
