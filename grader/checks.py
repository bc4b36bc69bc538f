"""The library exercise checks are written with.

A check plans probes on the trusted side (`plan`), and judges what came back
(`judge`), raising CheckFailure with a student-facing message to fail. Points
and visibility come from exercise.toml, never from here.
"""
from __future__ import annotations

import math

import torch

from .checkbase import Check
from .feedback import CheckFailure, show_tensor
from .outputs import CallOutput, Run, TensorValue
from .probes import Call, ObjectRef, Planner, TensorRef
from .untrusted import untrusted

__all__ = [
    "Call", "Check", "CheckFailure", "ObjectRef", "Planner", "Run", "TensorRef",
    "expect_close", "expect_scalar_tensor", "expect_tensor", "expect_unmutated", "normal_two_sided_bound",
    "show_tensor", "untrusted",
]


def expect_tensor(value, *, what: str, shape: tuple | None = None, dtype: torch.dtype | None = None,
                  finite: bool = True) -> torch.Tensor:
    """Validate a returned value's kind, shape, dtype and finiteness; return the tensor."""
    if not isinstance(value, TensorValue):
        raise CheckFailure(f"{what}: expected a tensor.", got=_kind(value))
    t = value.data
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape {tuple(shape)}", got=f"shape {tuple(t.shape)}",
                           hint=_shape_hint(tuple(shape), tuple(t.shape)))
    if dtype is not None and t.dtype != dtype:
        raise CheckFailure(f"{what}: wrong dtype.", expected=str(dtype), got=str(t.dtype),
                           hint="Outputs must keep the input's dtype: avoid creating tensors with a fixed dtype "
                                "(e.g. `torch.tensor(0.5)` or `.float()`) in the computation.")
    if finite and t.is_floating_point() and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise CheckFailure(f"{what}: the result contains {bad} NaN or infinite value(s).", got=show_tensor(t),
                           hint="Look for log(0), exp of a large number, or 0/0; compute from logits with "
                                "numerically stable functions.")
    return t


def expect_scalar_tensor(value, *, what: str, dtype: torch.dtype | None = None) -> torch.Tensor:
    t = expect_tensor(value, what=what, dtype=dtype)
    if t.dim() != 0:
        raise CheckFailure(f"{what}: expected a 0-dim tensor (a single number).", got=f"shape {tuple(t.shape)}",
                           hint="Reduce with `.mean()` / `.sum()` so the loss is a single number.")
    return t


def expect_close(got: torch.Tensor, expected: torch.Tensor, *, what: str, rtol: float, atol: float,
                 known_bugs: dict[str, torch.Tensor] | None = None, hint: str | None = None) -> None:
    """Fail unless |got - expected| <= atol + rtol * |expected| everywhere.

    known_bugs maps a hint to what a typical buggy implementation returns on the
    same inputs; the first one that matches the student's output gives the hint.
    """
    got64, exp64 = got.detach().to(torch.float64), expected.detach().to(torch.float64)
    if got64.shape != exp64.shape:
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape {tuple(exp64.shape)}",
                           got=f"shape {tuple(got64.shape)}")
    tolerance = atol + rtol * exp64.abs()
    error = (got64 - exp64).abs()
    bad = ~(error <= tolerance)  # NaN counts as bad
    if not bool(bad.any()):
        return
    index = tuple(int(i) for i in bad.nonzero()[0]) if got64.dim() else ()
    at = f" at index {list(index)}" if index else ""
    for bug_hint, bug_value in (known_bugs or {}).items():
        b64 = bug_value.detach().to(torch.float64)
        if b64.shape == got64.shape and bool(((got64 - b64).abs() <= atol + rtol * b64.abs() + 1e-6).all()):
            hint = bug_hint
            break
    raise CheckFailure(
        f"{what}: {int(bad.sum())} of {bad.numel()} values differ from the reference (tolerance: "
        f"rtol {rtol:g}, atol {atol:g}); the first{at}: expected {exp64[index].item():.7g}, "
        f"got {got64[index].item():.7g}.",
        expected=show_tensor(expected), got=show_tensor(got), hint=hint)


def expect_unmutated(call: CallOutput, names: dict) -> None:
    """Fail if the harness saw an input tensor change during the call."""
    if call.mutated:
        which = ", ".join(f"`{names.get(m, m)}`" for m in call.mutated)
        raise CheckFailure(f"`{call.description}` modified its input {which} in place.",
                           hint="Do not use in-place operations (`+=`, `.mul_()`, `x[...] = ...`) on inputs; "
                                "work on new tensors.")


def normal_two_sided_bound(p_false_failure: float) -> float:
    """z such that P(|N(0,1)| > z) = p (bisection on erfc; no SciPy needed)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erfc(mid / math.sqrt(2)) > p_false_failure:
            lo = mid
        else:
            hi = mid
    return hi


def _kind(value) -> str:
    from .outputs import type_name

    return type_name(value)


def _shape_hint(expected: tuple, got: tuple) -> str | None:
    if len(expected) + 1 == len(got) and got[:len(expected)] == expected:
        return "You kept a dimension you should have reduced (sum over the last dimension)."
    if len(got) + 1 == len(expected) or (got == () and expected):
        return "You reduced over a dimension you should have kept (e.g. the batch dimension)."
    return None
