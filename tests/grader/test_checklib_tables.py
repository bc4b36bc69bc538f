"""The check library's table hooks and the helpers gan-minimax, ddpm-schedule and attention share, without
Docker: every probe runs through the harness's own probe runner (grader.harness.runner.run_probe), in this
process, on a small trusted module, and the judge reads the frames it produced."""
from __future__ import annotations

import math
import types

import pytest
import torch
from torch import nn

from grader.checks import (
    Call,
    CheckFailure,
    Differential,
    Gradients,
    InputsUnchanged,
    KnownBugs,
    ObjectRef,
    Planner,
    Run,
    TableCheck,
    Tol,
    build_objects,
    compare_states,
    default_init,
    expect_close,
    expect_equal,
    expect_finite,
    expect_floats,
    expect_tensor,
    snapshot,
)
from grader.harness.objects import mlp
from grader.harness.runner import run_probe
from grader.outputs import TensorValue

MLP = {"sizes": [3, 5, 2], "activation": "tanh", "out_activation": None}


def grade(p: Planner, **module) -> Run:
    """Every planned probe run by the harness's probe runner on a trusted module made of `module`."""
    run = Run(descriptions=dict(p.descriptions))
    for spec in p.probes.values():
        payload, blob = run_probe(spec, types.SimpleNamespace(**module), p.tensors, 30.0, "<trusted>")
        assert run.add_probe(payload, blob)
    return run


def fails(check, run: Run, planned) -> CheckFailure:
    with pytest.raises(CheckFailure) as failure:
        check.judge(run, planned)
    return failure.value


# table hooks -------------------------------------------------------------------------------------------------

class Scaled(nn.Module):
    """A student class as the sandbox builds it: constructor arguments, then a state loaded strictly."""

    def __init__(self, n: int):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(n))

    def forward(self, x, mask=None):
        out = x * self.w
        return out if mask is None else out.masked_fill(~mask, 0.0)


class ScaledValues(Differential):
    """A table drawn from the planner (masks), an object per case, a keyword input and a method call."""

    name = "scaled"
    tolerances = {torch.float32: Tol(1e-6, 1e-6), torch.float64: Tol(1e-12, 1e-12)}
    bugs = KnownBugs({"You ignored the mask.": lambda x, w, mask: x * w})

    def table(self, p):
        return [(4, torch.rand(2, 4, generator=p.generator) < 0.5), (3, None)]

    def objects(self, p, case):
        w = torch.randn(case[0], generator=p.generator)
        return {"m": {"type": "student_class", "name": "Scaled", "args": [case[0]], "state": {"w": w}}}

    def inputs(self, p, case):
        return (p.randn(2, case[0]),)

    def kwargs(self, p, case):
        return {} if case[1] is None else {"mask": p.add(case[1])}

    def call(self, p, case, args, kwargs):
        return Call(object="m", args=args, kwargs=kwargs)

    def expected(self, case):
        out = case.args64()[0] * case.objects["m"]["state"]["w"].double()
        mask = case.kwargs.get("mask")
        return out if mask is None else out.masked_fill(~mask, 0.0)

    def known_bugs(self, case):
        return self.bugs(case.args64()[0], case.objects["m"]["state"]["w"].double(), case.kwargs.get("mask"))

    def error_hint(self, run, case, message):
        return "Define the class with a parameter `w` of shape (n,)." if "w" in message else None


def test_a_table_draws_cases_objects_inputs_and_kwargs_in_that_order():
    p, q = Planner(3), Planner(3)
    planned = ScaledValues().plan(p)
    mask = torch.rand(2, 4, generator=q.generator) < 0.5  # the table first, then per case: objects, inputs, kwargs
    w0 = torch.randn(4, generator=q.generator)
    x0 = q.randn(2, 4)
    assert torch.equal(planned[0].kwargs["mask"], mask) and torch.equal(planned[0].args[0], x0.value)
    assert torch.equal(planned[0].objects["m"]["state"]["w"], w0)
    assert planned[1].kwargs == {} and planned[0].call.object == "m"
    spec = p.probes[planned[0].probe]
    assert spec["objects"]["m"]["type"] == "student_class" and spec["calls"][0]["object"] == "m"
    ScaledValues().judge(grade(p, Scaled=Scaled), planned)


def test_a_table_names_its_bug_and_hints_at_a_call_that_raised():
    class NoMask(Scaled):
        def forward(self, x, mask=None):
            return x * self.w

    class Misnamed(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(n))

    p = Planner(3)
    planned = ScaledValues().plan(p)
    assert fails(ScaledValues(), grade(p, Scaled=NoMask), planned).hint == "You ignored the mask."
    failure = fails(ScaledValues(), grade(p, Scaled=Misnamed), planned)
    assert "Setting up" in failure.message and failure.hint == "Define the class with a parameter `w` of shape (n,)."


def test_a_per_case_tolerance_decides():
    class Rounded(Differential):
        name, fn, cases = "rounded", "f", [0.5, 1e-9]

        def inputs(self, p, atol):
            return (p.randn(5),)

        def tol(self, case):
            return Tol(0.0, case.case)

        def reference(self, x):
            return x

    p = Planner(0)
    planned = Rounded().plan(p)
    run = grade(p, f=lambda x: x + 0.25)
    Rounded().judge_case(run.call(planned[0].probe), planned[0])
    with pytest.raises(CheckFailure, match="atol 1e-09"):
        Rounded().judge_case(run.call(planned[1].probe), planned[1])


def test_bind_names_every_argument_with_the_defaults():
    class Schedule(TableCheck):
        name, fn, cases = "s", "f", [(5, {"end": 0.3}), (7, {})]

        def inputs(self, p, case):
            return (case[0],)

        def kwargs(self, p, case):
            return case[1]

    def reference(T, start=0.1, end=0.2):
        return None

    planned = Schedule().plan(Planner(0))
    assert [c.bind(reference) for c in planned] == [{"T": 5, "start": 0.1, "end": 0.3},
                                                    {"T": 7, "start": 0.1, "end": 0.2}]


# gradients ---------------------------------------------------------------------------------------------------

def _weighted(x, w):
    return (x * w).sum(-1)


class WeightedGrads(Gradients):
    name, fn, cases, tolerances = "grads", "f", [(3, 4)], Tol(1e-6, 1e-8)
    bugs = KnownBugs({"You used w twice.": lambda x, w: (x * w * w).sum(-1)})

    def inputs(self, p, shape):
        return p.randn(*shape), p.randn(*shape)

    def upstream(self, p, shape):
        return p.randn(shape[0])

    reference = staticmethod(_weighted)


def test_gradients_weighted_by_the_upstream_pass_and_name_a_bug_that_explains_them_all():
    p = Planner(1)
    planned = WeightedGrads().plan(p)
    assert planned[0].call.grad_wrt == (0, 1) and planned[0].upstream64() is not None
    WeightedGrads().judge(grade(p, f=_weighted), planned)
    failure = fails(WeightedGrads(), grade(p, f=lambda x, w: (x * w * w).sum(-1)), planned)
    assert "d(output)/dx" in failure.message and failure.hint == "You used w twice."
    failure = fails(WeightedGrads(), grade(p, f=lambda x, w: (x * 2 * w).sum(-1)), planned)
    assert failure.hint is None  # no bug explains both gradients
    failure = fails(WeightedGrads(), grade(p, f=lambda x, w: (x * w.detach()).sum(-1)), planned)
    assert "No gradient reached `w`" in failure.message and "differentiable" in failure.hint


# values: floats, exact tensors, known bugs the inputs cannot show ---------------------------------------------

def _returned(value) -> object:
    p = Planner(0)
    p.call("r", "f")
    return grade(p, f=lambda: value).call("r").value()


@pytest.mark.parametrize("value, message, hint", [
    ((1.0, 2.0), "is not a dict", 'End step with `return {"a": a.item(), "b": b.item()}`.'),
    ({"a": 1.0}, "has the wrong keys", 'Return exactly `{"a": a.item(), "b": b.item()}`.'),
    ({"a": 1.0, "b": torch.tensor(2.0, requires_grad=True)}, '"b" is a tensor', "Return `b.item()`"),
    ({"a": float("nan"), "b": 2.0}, '"a" is nan', "The value is not finite."),
    ({"a": 1, "b": 2.0}, '"a" is not a Python float', "Return `a.item()`."),
])
def test_expect_floats_says_what_is_wrong_with_a_returned_dict(value, message, hint):
    with pytest.raises(CheckFailure) as failure:
        expect_floats(_returned(value), ("a", "b"), what="The value of step()", fn="step")
    assert message in failure.value.message and hint in failure.value.hint


def test_expect_floats_returns_the_floats():
    assert expect_floats(_returned({"b": 2.5, "a": -1.0}), ("a", "b"), what="v", fn="step") == {"b": 2.5, "a": -1.0}


def test_expect_equal_counts_the_wrong_entries_and_names_a_bug():
    expected = torch.ones(4, 4, dtype=torch.bool).tril()
    expect_equal(expected.clone(), expected, what="m")
    with pytest.raises(CheckFailure) as failure:
        expect_equal(expected.T.clone(), expected, what="m", known_bugs={"upper": expected.T}, hint="generic")
    assert "12 of 16 entries are wrong; the first at [0, 1]: expected False." in failure.value.message
    assert failure.value.hint == "upper"
    with pytest.raises(CheckFailure, match="wrong shape"):
        expect_equal(torch.ones(3, dtype=torch.bool), expected, what="m")


def test_a_bug_the_inputs_cannot_tell_from_the_reference_names_nothing():
    expected = torch.tensor([1.0, 2.0, 3.0])
    got = expected + torch.tensor([0.0, 0.0, 5e-6])  # fails rtol 0 / atol 1e-6, within the bugs' looser match
    bugs = {"same as the reference": expected.clone(), "a real bug": got.clone()}
    with pytest.raises(CheckFailure) as failure:
        expect_close(got, expected, what="f", rtol=0.0, atol=1e-6, known_bugs=bugs)
    assert failure.value.hint == "a real bug"


def test_a_non_finite_single_value_shows_the_expected_number():
    with pytest.raises(CheckFailure) as failure:
        expect_finite(torch.tensor(float("nan")), what="loss", expected=torch.tensor(27.398765, dtype=torch.float64))
    assert failure.value.message == "loss: the result is not finite." and failure.value.expected == "27.39877"


def test_dtype_and_shape_hints_replace_the_defaults():
    value = TensorValue(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(CheckFailure) as failure:
        expect_tensor(value, what="f", dtype=torch.float32, dtype_hint="keep x's dtype")
    assert failure.value.hint == "keep x's dtype"
    with pytest.raises(CheckFailure) as failure:
        expect_tensor(value, what="f", shape=(3, 1), shape_hint="broadcast over the batch")
    assert failure.value.hint == "broadcast over the batch"


# seeded networks and their trusted twins ----------------------------------------------------------------------

def test_default_init_draws_pytorch_bounds_from_the_grading_generator():
    net = mlp(**MLP)
    a, b = default_init(Planner(4), net), default_init(Planner(4), net)
    assert list(a) == list(net.state_dict()) and all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["0.weight"], default_init(Planner(5), net)["0.weight"])
    for name, t in a.items():
        fan_in = 3 if name.startswith("0.") else 5
        assert t.dtype == torch.float32 and float(t.abs().max()) <= 1 / math.sqrt(fan_in)


def test_trusted_twins_step_exactly_as_the_sandboxs_objects():
    def step(net, opt, x):
        opt.zero_grad()
        net(x).pow(2).sum().backward()
        opt.step()

    p = Planner(6)
    objects = {"net": {"type": "mlp", **MLP, "state": default_init(p, mlp(**MLP))},
               "opt": {"type": "adam", "params_of": "net", "options": {"lr": 0.1, "betas": [0.5, 0.9]}}}
    x = p.randn(4, 3)
    p.probe("steps", [Call(fn="step", args=(ObjectRef("net"), ObjectRef("opt"), x), record_state=("net",))] * 2,
            objects=objects)
    run = grade(p, step=step)
    twins = build_objects(objects)
    for i in range(2):
        step(twins["net"], twins["opt"], x.value.clone())
        assert not compare_states({"net": run.call("steps", i).state("net")}, snapshot(net=twins["net"]), Tol(0, 0))
    assert not torch.equal(twins["net"].state_dict()["0.weight"], objects["net"]["state"]["0.weight"])


# inputs unchanged --------------------------------------------------------------------------------------------

def test_inputs_unchanged_skips_with_its_note_a_probe_whose_class_could_not_be_built():
    class Unchanged(InputsUnchanged):
        def probes(self, p):
            x = p.randn(3)
            obj = {"type": "student_class", "name": "Scaled", "args": [3], "state": {"w": torch.ones(3)}}
            return [(p.call("f", "f", x), ("x",)),
                    (p.probe("m", [Call(object="m", args=(p.randn(3),))], objects={"m": obj}), ("x",), 0, False,
                     "Scaled could not be built.")]

    class Broken(nn.Module):
        def __init__(self, n):
            raise ValueError("no")

    p = Planner(0)
    planned = Unchanged().plan(p)
    assert Unchanged().judge(grade(p, f=torch.neg, Scaled=Broken), planned) == "Scaled could not be built."
    assert Unchanged().judge(grade(p, f=torch.neg, Scaled=Scaled), planned) is None
    failure = fails(Unchanged(), grade(p, f=lambda x: x.neg_(), Scaled=Broken), planned)
    assert "modified its input `x` in place" in failure.message

