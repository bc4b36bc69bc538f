"""The harness's per-parameter records, run by its own probe runner in-process (no Docker): gradients
of a call's result with respect to an object's parameters (Call.param_grads, by torch.autograd.grad,
leaving .grad alone), each parameter's `.grad` as the call left it (Call.record_grad), a preset
`.grad` ("grads" in an object's spec), networks in float64 ("dtype"), activations and a "sequential"
of objects built earlier in the probe."""
import types

import torch
from torch import nn

from grader.checks import Call, ObjectRef, Planner, Run, build_objects
from grader.harness.objects import build
from grader.harness.runner import run_probe

MLP = {"type": "mlp", "sizes": [3, 4, 1], "activation": "tanh", "out_activation": None}


def grade(p: Planner, **module) -> Run:
    run = Run(descriptions=dict(p.descriptions))
    for spec in p.probes.values():
        payload, blob = run_probe(spec, types.SimpleNamespace(**module), p.tensors, 30.0, "<trusted>")
        assert run.add_probe(payload, blob)
    return run


def _state(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    net = build(MLP, {}, {}, None)
    return {k: torch.randn(v.shape, generator=g) for k, v in net.state_dict().items()}


def input_grad_norm(net, x, create_graph=True):
    x = x.detach().requires_grad_(True)
    g = torch.autograd.grad(net(x).sum(), x, create_graph=create_graph)[0]
    return g.norm(dim=1).sum()


def by_backward(net, x):
    x = x.detach().requires_grad_(True)
    net(x).sum().backward(create_graph=True)
    return x.grad.norm(dim=1).sum()


def wipes_grads(net, x):
    net.zero_grad()
    return input_grad_norm(net, x)


def detached_then_marked(net, x):
    return input_grad_norm(net, x, create_graph=False).requires_grad_(True)


def _plan(p: Planner, fn: str, *, dtype=torch.float32, preset=False, upstream=None):
    state = {k: v.to(dtype) for k, v in _state().items()}
    spec = {**MLP, "state": state, "dtype": str(dtype).removeprefix("torch.")}
    if preset:
        spec["grads"] = {k: torch.full_like(v, 0.5) for k, v in state.items()}
    x = p.randn(5, 3, dtype=dtype)
    up = p.add(torch.tensor(upstream, dtype=dtype)) if upstream is not None else None
    call = Call(fn=fn, args=(ObjectRef("net"), x), param_grads=("net",), param_upstream=up, record_grad=("net",))
    return p.probe(f"{fn}{len(p.probes)}", [call], objects={"net": spec}), spec, x.value


def _expected(spec, x, upstream=1.0):
    net = build_objects({"net": spec})["net"].double()
    out = input_grad_norm(net, x.double()) * upstream
    names = [k for k, _ in net.named_parameters()]
    grads = torch.autograd.grad(out, list(net.parameters()), allow_unused=True)  # the last bias: unused
    return dict(zip(names, grads, strict=True))


def test_parameter_gradients_of_a_result_match_autograd_and_leave_grad_alone():
    p = Planner(seed=1)
    probe, spec, x = _plan(p, "input_grad_norm", upstream=2.0)
    call = grade(p, input_grad_norm=input_grad_norm).call(probe)
    got, expected = call.param_grads("net"), _expected(spec, x, upstream=2.0)
    assert set(got) == set(expected)
    assert got["2.bias"] is None and expected["2.bias"] is None  # what the result does not depend on: None
    for name, g in got.items():
        if name != "2.bias":
            assert g is not None and g.dtype == torch.float32
            assert torch.allclose(g.double(), expected[name], rtol=1e-4, atol=1e-5), name
    assert call.grad_fields("net") == {name: None for name in expected}  # no .grad was written


def test_a_result_marked_requires_grad_has_no_parameter_gradients():
    p = Planner(seed=2)
    probe, _, _ = _plan(p, "detached_then_marked")
    call = grade(p, detached_then_marked=detached_then_marked).call(probe)
    assert call.value().requires_grad
    assert all(g is None for g in call.param_grads("net").values())


def test_grad_fields_show_a_backward_and_a_zero_grad():
    p = Planner(seed=3)
    backward, _, _ = _plan(p, "by_backward")
    wiped, _, _ = _plan(p, "wipes_grads", preset=True)
    kept, _, _ = _plan(p, "input_grad_norm", preset=True)
    run = grade(p, by_backward=by_backward, wipes_grads=wipes_grads, input_grad_norm=input_grad_norm)
    assert all(g is not None for g in run.call(backward).grad_fields("net").values())
    assert all(g is None for g in run.call(wiped).grad_fields("net").values())
    assert all(torch.equal(g, torch.full_like(g, 0.5)) for g in run.call(kept).grad_fields("net").values())
    # the harness's own differentiation came after the record, and did not touch .grad either
    assert run.call(kept).param_grads("net")["0.weight"] is not None


def test_a_float64_network_keeps_its_float64_state():
    p = Planner(seed=4)
    probe, spec, x = _plan(p, "input_grad_norm", dtype=torch.float64)
    call = grade(p, input_grad_norm=input_grad_norm).call(probe)
    assert call.value().data.dtype == torch.float64
    expected = _expected(spec, x)
    for name, g in call.param_grads("net").items():
        if name != "2.bias":
            assert g is not None and g.dtype == torch.float64
            assert torch.allclose(g, expected[name], rtol=1e-9, atol=1e-12), name


class Doubler(nn.Linear):
    def __init__(self, n):
        super().__init__(n, n, bias=False)


def test_a_sequential_stacks_objects_built_earlier_with_their_written_parameters():
    module = types.SimpleNamespace(Doubler=Doubler)
    tensors = {"w": 2 * torch.eye(2)}
    objs: dict = {}
    for name, spec in {"a": {"type": "student_class", "name": "Doubler", "args": [2], "params": {"weight": "w"}},
                       "act": {"type": "activation", "name": "leaky_relu"},
                       "b": {"type": "student_class", "name": "Doubler", "args": [2], "params": {"weight": "w"}},
                       "stack": {"type": "sequential", "layers": ["a", "act", "b"]}}.items():
        objs[name] = build(spec, tensors, objs, module)
    stack = objs["stack"]
    assert stack[0] is objs["a"] and stack[2] is objs["b"]
    out = stack(torch.tensor([[1.0, -1.0]]))
    assert torch.allclose(out, torch.tensor([[4.0, -0.8]]))
    assert list(stack.state_dict()) == ["0.weight", "2.weight"]
