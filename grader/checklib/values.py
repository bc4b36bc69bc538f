"""Returned values: kind, shape, dtype, finiteness, and closeness to a reference.

Comparisons are made in float64. A tolerance is |got - expected| <= atol + rtol * |expected|
elementwise (NaN never passes), and may depend on the dtype a case runs in (`Tolerances`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch

from ..feedback import CheckFailure, show_tensor
from ..outputs import OpaqueValue, TensorValue, type_name
from ..untrusted import untrusted

NONFINITE_HINT = ("Look for log(0), exp of a large number, or 0/0; compute from logits with numerically stable "
                  "functions.")
DTYPE_HINT = ("Outputs must keep the input's dtype: avoid creating tensors with a fixed dtype (e.g. "
              "`torch.tensor(0.5)` or `.float()`) in the computation.")


class Tol(NamedTuple):
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol {self.rtol:g}, atol {self.atol:g}"


Tolerances = Tol | Mapping[torch.dtype, Tol]


def tol_for(tolerances: Tolerances, dtype: torch.dtype) -> Tol:
    """The tolerance of a case run in `dtype` (a single Tol applies to every dtype)."""
    if isinstance(tolerances, Tol):
        return tolerances
    if dtype not in tolerances:
        raise KeyError(f"no tolerance for {dtype}")  # an authoring error, found by validate
    return tolerances[dtype]


def within(got: torch.Tensor, expected: torch.Tensor, tol: Tol) -> torch.Tensor:
    """Elementwise: got within tol of expected (float64; NaN is never within)."""
    g, e = got.detach().to(torch.float64), expected.detach().to(torch.float64)
    return (g - e).abs() <= tol.atol + tol.rtol * e.abs()


def close(got, expected, tol: Tol) -> bool:
    """Tensors (or numbers) of the same shape, within tol everywhere."""
    g, e = torch.as_tensor(got), torch.as_tensor(expected)
    return g.shape == e.shape and bool(within(g, e, tol).all())


def expect_tensor(value, *, what: str, shape: tuple | None = None, dtype: torch.dtype | None = None,
                  finite: bool = True, shape_hint: str | None = None, dtype_hint: str | None = None) -> torch.Tensor:
    """Validate a returned value's kind, shape, dtype and finiteness; return the tensor."""
    if isinstance(value, OpaqueValue) and "ndarray" in value.type_name:
        raise CheckFailure(f"{what}: returned a NumPy array; a `torch.Tensor` was expected.",
                           hint="Convert at the end with `torch.from_numpy(...)` or `torch.as_tensor(...)`.")
    if not isinstance(value, TensorValue):
        raise CheckFailure(f"{what}: expected a tensor.", got=type_name(value))
    t = value.data
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape {tuple(shape)}", got=f"shape {tuple(t.shape)}",
                           hint=shape_hint or _shape_hint(tuple(shape), tuple(t.shape)))
    if dtype is not None and t.dtype != dtype:
        raise CheckFailure(f"{what}: wrong dtype.", expected=str(dtype), got=str(t.dtype),
                           hint=dtype_hint or DTYPE_HINT)
    if finite:
        expect_finite(t, what=what)
    return t


def expect_scalar_tensor(value, *, what: str, dtype: torch.dtype | None = None, finite: bool = True) -> torch.Tensor:
    t = expect_tensor(value, what=what, dtype=dtype, finite=finite)
    if t.dim() != 0:
        raise CheckFailure(f"{what}: expected a 0-dim tensor (a single number).", got=f"shape {tuple(t.shape)}",
                           hint="Reduce with `.mean()` / `.sum()` so the loss is a single number.")
    return t


def expect_finite(t: torch.Tensor, *, what: str, expected: torch.Tensor | None = None,
                  known_bugs: Mapping[str, torch.Tensor] | None = None, hint: str = NONFINITE_HINT) -> None:
    """Fail if t has NaN or infinite values; a known bug with the same NaN/inf pattern names the hint."""
    if not t.is_floating_point():
        return
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return
    n = t.numel()
    count = f"{int(bad.sum())} of {n} values are NaN or infinite" if n > 1 else "the result is not finite"
    shown = None if expected is None else f"{expected.item():.7g}" if expected.numel() == 1 else show_tensor(expected)
    raise CheckFailure(f"{what}: {count}.", expected=shown, got=show_tensor(t),
                       hint=nan_pattern_bug(t, known_bugs or {}) or hint)


def nan_pattern_bug(got: torch.Tensor, known_bugs: Mapping[str, torch.Tensor]) -> str | None:
    """The first known bug whose non-finite entries are exactly where got's are."""
    bad = ~torch.isfinite(got)
    for hint, value in known_bugs.items():
        if value.shape == got.shape and torch.equal(~torch.isfinite(value), bad):
            return hint
    return None


def expect_close(got: torch.Tensor, expected: torch.Tensor, *, what: str, rtol: float, atol: float,
                 known_bugs: Mapping[str, torch.Tensor] | None = None, hint: str | None = None) -> None:
    """Fail unless |got - expected| <= atol + rtol * |expected| everywhere.

    known_bugs maps a hint to what a typical buggy implementation returns on the
    same inputs; the first one that matches the student's output (and differs from
    expected, so a bug these inputs cannot show names nothing) gives the hint.
    """
    got64, exp64 = got.detach().to(torch.float64), expected.detach().to(torch.float64)
    if got64.shape != exp64.shape:
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape {tuple(exp64.shape)}",
                           got=f"shape {tuple(got64.shape)}")
    bad = ~within(got64, exp64, Tol(rtol, atol))
    if not bool(bad.any()):
        return
    index = tuple(int(i) for i in bad.nonzero()[0]) if got64.dim() else ()
    at = f" at index {list(index)}" if index else ""
    loose = Tol(rtol, atol + 1e-6)
    for bug_hint, bug_value in (known_bugs or {}).items():  # a bug these inputs cannot tell from the reference: none
        if close(got64, bug_value, loose) and not close(bug_value, exp64, Tol(rtol, atol)):
            hint = bug_hint
            break
    raise CheckFailure(
        f"{what}: {int(bad.sum())} of {bad.numel()} values differ from the reference (tolerance: "
        f"rtol {rtol:g}, atol {atol:g}); the first{at}: expected {exp64[index].item():.7g}, "
        f"got {got64[index].item():.7g}.",
        expected=show_tensor(expected), got=show_tensor(got), hint=hint)


def expect_values(value, expected: torch.Tensor, *, what: str, tol: Tol, dtype: torch.dtype | None = None,
                  known_bugs: Mapping[str, torch.Tensor] | None = None, hint: str | None = None,
                  nonfinite_hint: str = NONFINITE_HINT, shape_hint: str | None = None,
                  dtype_hint: str | None = None) -> torch.Tensor:
    """A returned tensor of expected's shape (and `dtype`), finite, and within tol of expected.

    A non-finite result is explained by the known bug with the same NaN pattern, a wrong one by
    the known bug whose values it matches."""
    t = expect_tensor(value, what=what, shape=tuple(expected.shape), dtype=dtype, finite=False, shape_hint=shape_hint,
                      dtype_hint=dtype_hint)
    expect_finite(t, what=what, expected=expected, known_bugs=known_bugs, hint=nonfinite_hint)
    expect_close(t, expected, what=what, rtol=tol.rtol, atol=tol.atol, known_bugs=known_bugs, hint=hint)
    return t


def expect_floats(value, keys: Sequence[str], *, what: str, fn: str,
                  nonfinite_hint: str = "The value is not finite.") -> dict[str, float]:
    """A returned dict of exactly `keys`, each a finite Python float (as `.item()` gives), e.g. the losses a
    training step returns for logging; `fn` is the function, for the hints."""
    ret = "{" + ", ".join(f'"{k}": {k}.item()' for k in keys) + "}"
    if not isinstance(value, dict):
        raise CheckFailure(f"{what} is not a dict.", expected="{" + ", ".join(f'"{k}": <float>' for k in keys) + "}",
                           got=type_name(value), hint=f"End {fn} with `return {ret}`.")
    if set(value) != set(keys):
        quoted = [f'"{k}"' for k in keys]
        names = " and ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
        raise CheckFailure(f"{what} has the wrong keys.", expected=f"exactly the key{'s' * (len(keys) > 1)} {names}",
                           got="keys " + ", ".join(untrusted(repr(k)) for k in value), hint=f"Return exactly `{ret}`.")
    for key, v in value.items():
        if isinstance(v, TensorValue):
            raise CheckFailure(
                f'{what}: "{key}" is a tensor, not a Python float.', expected="a Python float",
                got=f"a tensor of shape {tuple(v.data.shape)}" + (" that requires grad" if v.requires_grad else ""),
                hint=f"Return `{key}.item()`: a tensor keeps its autograd graph alive, and logging code "
                     "expects plain numbers.")
        if not isinstance(v, float) or isinstance(v, bool):
            raise CheckFailure(f'{what}: "{key}" is not a Python float.', expected="a Python float",
                               got=type_name(v), hint=f"Return `{key}.item()`.")
        if not math.isfinite(v):
            raise CheckFailure(f'{what}: "{key}" is {v}.', expected="a finite float", got=str(v), hint=nonfinite_hint)
    return value


def expect_equal(got: torch.Tensor, expected: torch.Tensor, *, what: str,
                 known_bugs: Mapping[str, torch.Tensor] | None = None, hint: str | None = None) -> None:
    """Fail unless got equals expected exactly (bool or integer results, e.g. a mask); the first known bug
    equal to got names the hint."""
    if got.shape == expected.shape and torch.equal(got, expected):
        return
    if got.shape != expected.shape:
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape {tuple(expected.shape)}",
                           got=f"shape {tuple(got.shape)}")
    wrong = (got != expected).nonzero()[0].tolist()
    first = expected[tuple(wrong)].item()
    bug = next((h for h, b in (known_bugs or {}).items() if b.shape == got.shape and torch.equal(got, b)), None)
    raise CheckFailure(f"{what}: {int((got != expected).sum())} of {got.numel()} entries are wrong; the first at "
                       f"{wrong}: expected {first}.", expected=show_tensor(expected, limit=12),
                       got=show_tensor(got, limit=12), hint=bug or hint)


def as_number(t: torch.Tensor) -> torch.Tensor:
    """A one-element tensor as a 0-dim one: compare its value, leave its shape to a shape check."""
    return t.reshape(()) if t.numel() == 1 else t


def f64(*values):
    """float64 copies of tensors (and TensorRefs); other values unchanged."""
    out = []
    for v in values:
        v = getattr(v, "value", v)
        out.append(v.detach().to(torch.float64) if isinstance(v, torch.Tensor) and v.is_floating_point() else v)
    return out


def _shape_hint(expected: tuple, got: tuple) -> str | None:
    if expected == ():
        return "Reduce with `.mean()` / `.sum()` so the result is a single number."
    if len(expected) + 1 == len(got) and got[:len(expected)] == expected:
        return "You kept a dimension you should have reduced (sum over the last dimension)."
    if len(got) + 1 == len(expected) or (got == () and expected):
        return "You reduced over a dimension you should have kept (e.g. the batch dimension)."
    return None
