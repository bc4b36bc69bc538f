"""The harness's probe objects: `params` writes a student object's parameters in place after it is
built (what pixelcnn-mask's masked-weights check needs), never through load_state_dict."""
import types

import torch
from torch import nn

from grader.harness.objects import build
from grader.probes import Planner


class Masked(nn.Linear):
    """A student-style layer with a buffer the grader's state would not have."""

    def __init__(self, n):
        super().__init__(n, n)
        self.register_buffer("mask", torch.ones(n, n))


def test_params_are_copied_in_place_and_buffers_are_left_alone():
    module = types.SimpleNamespace(Masked=Masked)
    weight, bias = torch.full((2, 2), 1000.0), torch.tensor([1.0, -1.0])
    layer = build({"type": "student_class", "name": "Masked", "args": [2], "params": {"weight": "w", "bias": "b"}},
                  {"w": weight, "b": bias}, {}, module)
    assert torch.equal(layer.weight.detach(), weight) and torch.equal(layer.bias.detach(), bias)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert torch.equal(layer.mask, torch.ones(2, 2))


def test_the_planner_sends_params_as_inputs():
    planner = Planner(seed=0)
    w = torch.randn(2, 2)
    layer = {"type": "student_class", "name": "Masked", "params": {"weight": w}}
    probe = planner.probe("p", [], objects={"layer": layer})
    spec = planner.probes[probe]
    name = spec["objects"]["layer"]["params"]["weight"]
    assert torch.equal(planner.tensors[name], w)


def test_a_flattening_critic_keeps_the_mlps_parameter_names():
    plain = build({"type": "mlp", "sizes": [6, 4, 1], "activation": "tanh"}, {}, {}, None)
    images = build({"type": "mlp", "sizes": [6, 4, 1], "activation": "tanh", "flatten": True, "squeeze": True},
                   {}, {}, None)
    assert list(images.state_dict()) == list(plain.state_dict())
    images.load_state_dict(plain.state_dict())
    x = torch.randn(3, 2, 3)
    assert images(x).shape == (3,) and torch.allclose(images(x), plain(x.flatten(1)).squeeze(-1))
