"""Public scaffolding objects a probe can ask for: tiny networks and optimizers,
or an instance of a class from the student's module with given weights, activations, and a
"sequential" of objects built before it (e.g. a stack of a student's layers).

Options of a network's spec: "dtype" (float32 or float64), "state" (loaded with load_state_dict),
"params" (written in place, as a training step would) and "grads" (each parameter's `.grad` set to
a given tensor before any call: a check can then see whether a call left `.grad` alone).

The networks of exercises §8-10 are public (their contracts call them `model(seq)`, `model(xt, t)`
and `score_model(x, sigma_idx)`); the judge builds the same ones with `network` on the trusted side
to compute expected values."""
from __future__ import annotations

import torch
import torch.nn.functional as F
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


class Conditioned(nn.Module):
    """net(x, c): an MLP on x's values (flattened per row) and the one-hot code of the int64 index c (B,),
    reshaped to x's shape. A noise predictor model(xt, t) or a score model score_model(x, sigma_idx).
    sizes[0] == sizes[-1] == the number of values per row of x."""

    def __init__(self, sizes: list[int], n_index: int, activation: str):
        super().__init__()
        self.n_index = int(n_index)
        self.net = mlp([sizes[0] + self.n_index, *sizes[1:]], activation, None)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        code = F.one_hot(c, self.n_index).to(x.dtype)
        return self.net(torch.cat([x.flatten(1), code], dim=1)).view(x.shape)


class CausalLM(nn.Module):
    """model(tokens): (B, L) int64 -> (B, L, vocab) logits. Position i sees tokens 0..i only: an MLP on
    the one-hot code of token i and the mean of the codes of tokens 0..i."""

    def __init__(self, vocab: int, hidden: list[int], activation: str):
        super().__init__()
        self.vocab = int(vocab)
        self.net = mlp([2 * self.vocab, *hidden, self.vocab], activation, None)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        dtype = self.net[0].weight.dtype
        code = F.one_hot(tokens, self.vocab).to(dtype)
        steps = torch.arange(1, tokens.shape[1] + 1, device=tokens.device, dtype=dtype).view(1, -1, 1)
        return self.net(torch.cat([code, code.cumsum(1) / steps], dim=-1))


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def network(spec: dict) -> nn.Module:
    """A "conditioned" or "causal_lm" network from its spec (without state), in spec["dtype"] (float32)."""
    activation = spec.get("activation", "leaky_relu")
    if spec["type"] == "conditioned":
        net: nn.Module = Conditioned(spec["sizes"], spec["n_index"], activation)
    else:
        net = CausalLM(spec["vocab"], spec.get("hidden", []), activation)
    return net.to(DTYPES[spec.get("dtype", "float32")])


def build(spec: dict, tensors: dict, objects: dict, module) -> object:
    kind = spec["type"]
    if kind in ("conditioned", "causal_lm"):
        obj = network(spec)
    elif kind == "generator":  # a torch.Generator seeded by the judge, for a `generator=` argument
        return torch.Generator(device=str(spec.get("device", "cpu"))).manual_seed(int(spec["seed"]))
    elif kind == "mlp":
        obj = mlp(spec["sizes"], spec.get("activation", "leaky_relu"), spec.get("out_activation"))
        if spec.get("flatten") or spec.get("squeeze"):
            obj = ReshapedMLP(list(obj), bool(spec.get("squeeze")))
    elif kind == "student_class":
        obj = getattr(module, spec["name"])(*spec.get("args", []), **spec.get("kwargs", {}))
    elif kind == "activation":
        return ACTIVATIONS[spec["name"]]()
    elif kind == "sequential":  # of objects built earlier in the probe, in this order, shared with them
        return nn.Sequential(*(objects[name] for name in spec["layers"]))
    elif kind in ("sgd", "adam"):
        params = objects[spec["params_of"]].parameters()
        options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.get("options", {}).items()}
        return (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)(params, **options)
    else:
        raise ValueError(f"unknown object type {kind!r}")
    if spec.get("dtype") is not None and isinstance(obj, nn.Module):
        obj = obj.to(DTYPES[spec["dtype"]])
    if "state" in spec:
        state = {name: tensors[key] for name, key in spec["state"].items()}
        obj.load_state_dict(state, strict=True)
    if "params" in spec:  # {parameter name: tensor name}: written in place, as a training step would, never
        # through load_state_dict (a student's own buffers need not be in the grader's state)
        with torch.no_grad():
            for name, key in spec["params"].items():
                obj.get_parameter(name).copy_(tensors[key])
    for name, key in spec.get("grads", {}).items():  # {parameter name: tensor name}: a preset .grad
        param = obj.get_parameter(name)
        param.grad = tensors[key].to(param.dtype).clone()
    return obj
