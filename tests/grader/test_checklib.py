"""The check library on its own, without Docker: tolerances, NaN patterns, known bugs, gradients,
states, table checks (judged from frames in the harness's format) and the statistical tests'
false-failure rates and power."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks import (
    Case,
    CheckFailure,
    Differential,
    InputsUnchanged,
    KnownBugs,
    Planner,
    Returns,
    Run,
    Tol,
    autograd_grads,
    bug_grads,
    close,
    compare_states,
    dkw_bound,
    expect_close,
    expect_gradients,
    expect_tensor,
    expect_values,
    first_match,
    grid,
    independence_test,
    ks_test,
    mean_test,
    normal_two_sided_bound,
    tol_for,
    variance_test,
)
from grader.outputs import CallOutput, OpaqueValue, TensorValue

FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)


def output(value=None, *, grads=None, mutated=(), description="f(x)") -> CallOutput:
    """A call's outputs as the harness frames them: encodings plus a tensor blob."""
    tensors, enc = {}, []
    for i, v in enumerate([value]):
        tensors[f"r{i}"] = v
        enc.append({"tensor": f"r{i}"})
    raw = {"ok": True, "returns": enc, "mutated": list(mutated), "grads": {}}
    for key, g in (grads or {}).items():
        if g is None:
            raw["grads"][str(key)] = {"none": True}
        else:
            tensors[f"g{key}"] = g
            raw["grads"][str(key)] = {"tensor": f"g{key}"}
    return CallOutput(description, raw, tensors)


def run_planned(p: Planner, impl, mutate=None) -> Run:
    """Run every planned call with a trusted implementation and frame the results for the judge."""
    run = Run(descriptions=dict(p.descriptions))
    for probe_id, spec in p.probes.items():
        calls, blob = [], {}
        for i, entry in enumerate(spec["calls"]):
            args = [p.tensors[a["tensor"]].clone() if "tensor" in a else a["value"] for a in entry["args"]]
            kwargs = {k: p.tensors[a["tensor"]].clone() if "tensor" in a else a["value"]
                      for k, a in entry["kwargs"].items()}
            before = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
            result = impl(*args, **kwargs)
            blob[f"out{i}"] = result
            changed = [j for j, (a, b) in enumerate(zip(args, before, strict=True))
                       if isinstance(a, torch.Tensor) and not torch.equal(a, b)]
            calls.append({"ok": True, "returns": [{"tensor": f"out{i}"}], "mutated": changed})
        run.probes[probe_id] = {"id": probe_id, "calls": calls}
        run.blobs[probe_id] = blob
    return run


# values and tolerances ---------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=20), st.sampled_from([1e-3, 1e-5]), st.sampled_from([0.0, 1e-6]))
def test_a_tensor_is_close_to_itself_and_not_to_a_shift_beyond_the_tolerance(values, rtol, atol):
    x = torch.tensor(values, dtype=torch.float64)
    tol = Tol(rtol, atol)
    assert close(x, x, tol)
    assert not close(x, x + 2 * (atol + rtol * x.abs()) + 1e-9, tol)


def test_nan_is_never_close_and_shapes_must_agree():
    tol = Tol(1e-3, 1e-3)
    assert not close(torch.tensor([float("nan")]), torch.tensor([float("nan")]), tol)
    assert not close(torch.zeros(3), torch.zeros(1, 3), tol)


def test_tolerances_by_dtype():
    tols = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-6, 0.0)}
    assert tol_for(tols, torch.float64) == Tol(1e-6, 0.0)
    assert tol_for(Tol(1, 2), torch.float16) == Tol(1, 2)
    with pytest.raises(KeyError):
        tol_for(tols, torch.float16)


@pytest.mark.parametrize("value, kwargs, message, hint", [
    (OpaqueValue("numpy.ndarray"), {}, "returned a NumPy array", "torch.from_numpy"),
    (None, {}, "expected a tensor", None),
    (TensorValue(torch.zeros(4, 3)), {"shape": (4,)}, "wrong shape", "kept a dimension"),
    (TensorValue(torch.zeros(3)), {"shape": (4, 3)}, "wrong shape", "reduced over a dimension"),
    (TensorValue(torch.zeros(3)), {"dtype": torch.float64}, "wrong dtype", "keep the input's dtype"),
    (TensorValue(torch.tensor([1.0, float("inf"), float("nan")])), {}, "2 of 3 values are NaN or infinite", "log(0)"),
])
def test_expect_tensor_says_what_is_wrong(value, kwargs, message, hint):
    with pytest.raises(CheckFailure) as failure:
        expect_tensor(value, what="`f(x)`", **kwargs)
    assert message in failure.value.message
    assert hint is None or hint in failure.value.hint


def test_expect_close_reports_the_first_difference_and_names_a_known_bug():
    expected = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    expect_close(expected + 1e-7, expected, what="x", rtol=1e-5, atol=0)
    with pytest.raises(CheckFailure) as failure:
        expect_close(-expected, expected, what="x", rtol=1e-5, atol=0,
                     known_bugs={"halved": expected / 2, "negated": -expected}, hint="generic")
    assert "3 of 3 values differ" in failure.value.message and "at index [0]" in failure.value.message
    assert failure.value.hint == "negated"
    with pytest.raises(CheckFailure) as failure:
        expect_close(expected * 3, expected, what="x", rtol=1e-5, atol=0, known_bugs={"negated": -expected},
                     hint="generic")
    assert failure.value.hint == "generic"


def test_expect_values_names_the_bug_with_the_same_nan_pattern():
    expected = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    got = torch.tensor([float("nan"), 0.25, float("nan")])
    nan = float("nan")
    bugs = {"inf fill": torch.tensor([nan, 0.0, 0.0]), "overflow": torch.tensor([nan, 1.0, nan])}
    with pytest.raises(CheckFailure) as failure:
        expect_values(TensorValue(got), expected, what="x", tol=Tol(1e-4, 0), known_bugs=bugs)
    assert failure.value.hint == "overflow" and "2 of 3 values are NaN" in failure.value.message
    with pytest.raises(CheckFailure) as failure:
        expect_values(TensorValue(got.double()), expected, what="x", tol=Tol(1e-4, 0), dtype=torch.float32)
    assert "wrong dtype" in failure.value.message
    assert expect_values(TensorValue(expected.float()), expected, what="x", tol=Tol(1e-4, 0)).dtype == torch.float32


# known bugs --------------------------------------------------------------------------------------------------

def test_known_bugs_evaluate_in_order_and_skip_simulators_that_cannot_run():
    def broken(x):
        raise RuntimeError("shape mismatch")

    bugs = KnownBugs({"twice": lambda x: 2 * x, "broken": broken}) + KnownBugs([("twice again", lambda x: x + x)])
    values = bugs(torch.ones(2))
    assert list(values) == ["twice", "twice again"] and len(bugs) == 3
    assert first_match(torch.full((2,), 2.0), values, lambda g, b: torch.equal(g, b)) == "twice"
    assert first_match(torch.ones(2), {"same as reference": torch.ones(2)}, lambda g, b: torch.equal(g, b),
                       expected=torch.ones(2), differs=lambda b, e: not torch.equal(b, e)) is None


# gradients ---------------------------------------------------------------------------------------------------

def test_autograd_grads_in_float64_with_zeros_for_unused_arguments():
    x, y = torch.tensor([1.0, -2.0]), torch.tensor([3.0, 4.0])
    upstream = torch.tensor([1.0, 0.5])
    gx, gy = autograd_grads(lambda a, b: a ** 2, (x, y), (0, 1), upstream)
    assert gx.dtype == torch.float64 and torch.equal(gx, torch.tensor([2.0, -2.0], dtype=torch.float64))
    assert torch.equal(gy, torch.zeros(2, dtype=torch.float64))


def test_expect_gradients_names_a_bug_only_if_it_explains_every_gradient():
    x, y = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 5.0])
    ref = autograd_grads(lambda a, b: (a * b).sum(), (x, y), (0, 1))
    bugs = bug_grads(KnownBugs({"doubled y only": lambda a, b: (a * b).sum() + b.sum() * 0,
                                "doubled": lambda a, b: 2 * (a * b).sum()}), (x, y), (0, 1))
    names = {0: "x", 1: "y"}
    tol = Tol(1e-6, 1e-9)
    expect_gradients(output(torch.zeros(()), grads={0: ref[0], 1: ref[1]}), dict(enumerate(ref)), names=names, tol=tol)
    with pytest.raises(CheckFailure) as failure:
        expect_gradients(output(torch.zeros(()), grads={0: 2 * ref[0], 1: 2 * ref[1]}), dict(enumerate(ref)),
                         names=names, tol=tol, known_bugs=bugs, hint="generic", what="d loss/d{name} of {call}")
    assert failure.value.hint == "doubled" and failure.value.message.startswith("d loss/dx of f(x)")
    with pytest.raises(CheckFailure) as failure:  # only one gradient doubled: no bug explains both
        expect_gradients(output(torch.zeros(()), grads={0: ref[0], 1: 2 * ref[1]}), dict(enumerate(ref)),
                         names=names, tol=tol, known_bugs=bugs, hint={0: "about x", 1: "about y"})
    assert failure.value.hint == "about y"
    with pytest.raises(CheckFailure) as failure:
        expect_gradients(output(torch.zeros(()), grads={0: None, 1: ref[1]}), dict(enumerate(ref)), names=names,
                         tol=tol)
    assert "No gradient reached `x`" in failure.value.message and failure.value.got == "no gradient"


# state -------------------------------------------------------------------------------------------------------

def test_compare_states_counts_every_difference_and_describes_the_first():
    expected = {"G": {"w": torch.zeros(2, 2), "b": torch.zeros(2)}, "D": {"w": torch.ones(3)}}
    got = {"G": {"w": torch.tensor([[0.0, 1.0], [0.0, 1.0]])}, "D": {"w": torch.ones(3)}}
    diff = compare_states(got, expected, Tol(1e-5, 1e-5))
    assert diff and diff.objects == ["G"] and diff.count == 2 + 2 and diff.total == 9
    detail, _, _ = diff.first()
    assert "G's `w` at index [0, 1]: expected 0, got 1" in detail
    assert not compare_states(expected, expected, Tol(0, 0))


# table checks ------------------------------------------------------------------------------------------------

class Softplus(Differential):
    name = "softplus"
    fn = "softplus"
    cases = grid(shapes=[(3,), (2, 4)], dtypes=[torch.float32, torch.float64])
    bugs = KnownBugs({"You used log(1 + exp(x)) without care.": lambda x: torch.log1p(torch.exp(x)),
                      "You returned relu(x).": torch.relu})

    def inputs(self, p, case):
        return (p.randn(*case.shape, dtype=case.dtype, std=3.0),)

    def reference(self, x):
        return torch.nn.functional.softplus(x)


def test_a_differential_check_passes_a_correct_function_in_every_dtype():
    p = Planner(7)
    planned = Softplus().plan(p)
    assert [c.case for c in planned] == grid(shapes=[(3,), (2, 4)], dtypes=[torch.float32, torch.float64])
    Softplus().judge(run_planned(p, torch.nn.functional.softplus), planned)


@pytest.mark.parametrize("impl, message, hint", [
    (torch.relu, "values differ from the reference", "You returned relu(x)."),
    (lambda x: torch.nn.functional.softplus(x.float()), "wrong dtype", "keep the input's dtype"),
    (lambda x: torch.nn.functional.softplus(x).sum(), "wrong shape", None),
])
def test_a_differential_check_fails_a_wrong_function_with_its_hint(impl, message, hint):
    p = Planner(7)
    planned = Softplus().plan(p)
    with pytest.raises(CheckFailure) as failure:
        Softplus().judge(run_planned(p, impl), planned)
    assert message in failure.value.message
    assert hint is None or hint in (failure.value.hint or "")


def test_returns_and_inputs_unchanged():
    class Shape(Returns):
        name, fn = "shape", "f"
        cases = [Case((2, 3)), Case((4,), torch.float64)]

        def inputs(self, p, case):
            return (p.randn(*case.shape, dtype=case.dtype),)

        def shape(self, case):
            return case.case.shape

    class Unchanged(InputsUnchanged):
        def probes(self, p):
            return [(p.call("inplace", "f", p.randn(3), p.randn(3)), ("x", "y"))]

    p = Planner(1)
    planned = Shape().plan(p), Unchanged().plan(p)
    run = run_planned(p, lambda x, y=None: x * 2)
    Shape().judge(run, planned[0])
    Unchanged().judge(run, planned[1])
    with pytest.raises(CheckFailure) as failure:
        Shape().judge(run_planned(p, lambda x, y=None: x.float()), planned[0])
    assert "wrong dtype" in failure.value.message
    with pytest.raises(CheckFailure) as failure:
        Unchanged().judge(run_planned(p, lambda x, y=None: x * 2 if y is None else y.mul_(2)), planned[1])
    assert "modified its input `y` in place" in failure.value.message


# statistics --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p, z", [(0.05, 1.959964), (1e-3, 3.290527), (1e-6, 4.891638)])
def test_normal_bound(p, z):
    assert normal_two_sided_bound(p) == pytest.approx(z, abs=1e-5)


def test_dkw_bound():
    assert dkw_bound(20_000, 1e-6) == pytest.approx(math.sqrt(math.log(2e6) / 40_000))


TRIALS, P = 200, 0.05


def _false_failures(test) -> int:
    g = torch.Generator().manual_seed(0)
    return sum(test(torch.randn(2_000, 4, generator=g, dtype=torch.float64)).failed for _ in range(TRIALS))


@pytest.mark.parametrize("name, test", [
    ("mean", lambda x: mean_test(x * 2 + 1, torch.ones(4, dtype=torch.float64), torch.full((4,), 2.0), P)),
    ("variance", lambda x: variance_test(x * 3, torch.full((4,), 3.0, dtype=torch.float64), P)),
    ("ks", lambda x: ks_test(x, P)),
    ("independence", lambda x: independence_test(x[:, 0], x[:, 1], P)),
])
def test_a_correct_sampler_fails_at_most_at_the_stated_rate(name, test):
    """Each test's false-failure probability is at most P = 0.05: over 200 independent trials the failures
    are Binomial(200, <= 0.05), so more than 25 happen with probability below 1e-3."""
    assert _false_failures(test) <= 25, name


@pytest.mark.parametrize("name, test", [
    ("mean shifted by 0.2 sd", lambda x: mean_test(x + 0.2, torch.zeros(4, dtype=torch.float64), torch.ones(4), 1e-6)),
    ("variance doubled", lambda x: variance_test(x * 2 ** 0.5, torch.ones(4, dtype=torch.float64), 1e-6)),
    ("uniform, not normal", lambda x: ks_test(torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) * 3.4
                                              - 1.7, 1e-6)),
    ("correlated", lambda x: independence_test(x[:, 0], x[:, 0] + x[:, 1], 1e-6)),
])
def test_the_tests_catch_the_bugs_they_exist_for(name, test):
    x = torch.randn(2_000, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert test(x).failed, name
