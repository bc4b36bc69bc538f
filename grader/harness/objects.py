"""Public scaffolding objects a probe can ask for: tiny networks and optimizers,
or an instance of a class from the student's module with given weights."""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def mlp(sizes: list[int], activation: str, out_activation: str | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    if out_activation:
        layers.append(ACTIVATIONS[out_activation]())
    return nn.Sequential(*layers)


class ReshapedMLP(nn.Sequential):
    """An mlp over each sample flattened ((B, ...) -> (B, D)), returning (B,) with `squeeze` instead of
    (B, 1): a critic over images. Its parameters are named as the plain mlp's."""

    def __init__(self, layers: list[nn.Module], squeeze: bool):
        super().__init__(*layers)
        self.squeeze = squeeze

    def forward(self, x):
        out = super().forward(x.flatten(1))
        return out.squeeze(-1) if self.squeeze else out


def build(spec: dict, tensors: dict, objects: dict, module) -> object:
    kind = spec["type"]
    if kind == "mlp":
        obj = mlp(spec["sizes"], spec.get("activation", "leaky_relu"), spec.get("out_activation"))
        if spec.get("flatten") or spec.get("squeeze"):
            obj = ReshapedMLP(list(obj), bool(spec.get("squeeze")))
    elif kind == "student_class":
        obj = getattr(module, spec["name"])(*spec.get("args", []), **spec.get("kwargs", {}))
    elif kind in ("sgd", "adam"):
        params = objects[spec["params_of"]].parameters()
        options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.get("options", {}).items()}
        return (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)(params, **options)
    else:
        raise ValueError(f"unknown object type {kind!r}")
    if "state" in spec:
        state = {name: tensors[key] for name, key in spec["state"].items()}
        obj.load_state_dict(state, strict=True)
    if "params" in spec:  # {parameter name: tensor name}: written in place, as a training step would, never
        # through load_state_dict (a student's own buffers need not be in the grader's state)
        with torch.no_grad():
            for name, key in spec["params"].items():
                obj.get_parameter(name).copy_(tensors[key])
    return obj
