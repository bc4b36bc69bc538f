"""Checks built from a table of cases: one probe per case, each judged on its own inputs.

`Differential` compares a student function with a reference on every case (shapes x dtypes x
kwargs; `grid` builds the product), `Returns` checks only kind, shape and dtype (for random
functions, or the contract's structure), and `InputsUnchanged` fails if a call edited an input
in place. A subclass sets the table and says how a case becomes inputs; the library plans,
reads back, computes the expected values on float64 copies of the very inputs the submission
received, and words the failure.
"""
from __future__ import annotations

import inspect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch

from ..checkbase import Check
from ..feedback import CheckFailure
from ..outputs import CallOutput, Run, TensorValue
from ..probes import Call, Planner, TensorRef
from .bugs import KnownBugs
from .grads import MISSING_HINT, autograd_grads, bug_grads, expect_gradients
from .values import (
    NONFINITE_HINT,
    Tol,
    Tolerances,
    as_number,
    expect_scalar_tensor,
    expect_tensor,
    expect_values,
    f64,
    tol_for,
)

# float32 / float64 tolerances of an ordinary elementwise computation (a correct float32 result is within ~1e-6)
DEFAULT_TOLERANCES = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-5, 1e-6)}


@dataclass(frozen=True)
class Case:
    """One row of a table: the inputs' shape and dtype, keyword arguments, and anything else a check needs."""

    shape: tuple = ()
    dtype: torch.dtype = torch.float32
    kwargs: dict = field(default_factory=dict)
    extra: Any = None


def grid(shapes: Sequence[tuple] = ((),), dtypes: Sequence[torch.dtype] = (torch.float32,),
         kwargs: Sequence[dict] = ({},)) -> list[Case]:
    """Every combination of shapes x dtypes x kwargs."""
    return [Case(tuple(s), d, dict(k)) for s, d, k in itertools.product(shapes, dtypes, kwargs)]


@dataclass
class Planned:
    """A planned case: its probe, the case, and the inputs (actual tensors) it was called with."""

    probe: str
    case: Any
    args: tuple
    kwargs: dict
    call: Call | None = None  # as planned (grad_wrt, upstream: `upstream64`)
    objects: dict = field(default_factory=dict)  # the objects built in the sandbox, states as tensors

    def args64(self) -> list:
        return f64(*self.args)

    def kwargs64(self) -> dict:
        return dict(zip(self.kwargs, f64(*self.kwargs.values()), strict=True))

    def upstream64(self) -> torch.Tensor | None:
        up = self.call.upstream if self.call is not None else None
        return None if up is None else up.value.detach().to(torch.float64)

    def bind(self, signature_of) -> dict:
        """Every argument by name, defaults included, as `signature_of` (e.g. the reference) would see them."""
        bound = inspect.signature(signature_of).bind(*self.args, **self.kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)


class TableCheck(Check):
    """Plans one probe per entry of `cases`; override `inputs` (and `judge_case`).

    Per case, in this order (the order of the draws from the planner): `objects` (specs of objects
    the sandbox builds, e.g. a student class with a state), `inputs`, `kwargs`, then `call` (the
    Call: override it for an object's method, gradients or a seed). `table(p)` gives the cases;
    override it for cases drawn from the planner (e.g. random masks drawn before any input)."""

    fn: str = ""
    cases: Sequence = ()
    seeded: bool = False  # reseed torch's global generator before each call (random functions)

    def inputs(self, p: Planner, case) -> tuple:
        """The call's positional arguments for this case (TensorRefs from p, or plain values)."""
        raise NotImplementedError

    def kwargs(self, p: Planner, case) -> dict:
        return dict(case.kwargs) if isinstance(case, Case) else {}

    def function(self, case) -> str:
        """The function a case calls (one table may cover several functions)."""
        return self.fn

    def table(self, p: Planner) -> Sequence:
        return self.cases

    def objects(self, p: Planner, case) -> dict:
        """{name: object spec} built inside the sandbox for this case's probe (see Planner.probe)."""
        return {}

    def call(self, p: Planner, case, args: tuple, kwargs: dict) -> Call:
        seed = p.next_seed() if self.seeded else None
        return Call(fn=self.function(case), args=args, kwargs=kwargs, seed=seed)

    def plan(self, p: Planner) -> list[Planned]:
        planned = []
        for i, case in enumerate(self.table(p)):
            objects = self.objects(p, case)
            args, kwargs = tuple(self.inputs(p, case)), self.kwargs(p, case)
            call = self.call(p, case, args, kwargs)
            probe = p.probe(f"{self.name}{i}", [call], objects=objects)
            planned.append(Planned(probe, case, tuple(_value(a) for a in args),
                                   {k: _value(v) for k, v in kwargs.items()}, call, objects))
        return planned

    def judge(self, run: Run, planned: list[Planned]) -> str | None:
        for case in planned:
            try:
                call = run.call(case.probe)
            except CheckFailure as failure:  # the call raised (or did not run): a hint may say why
                failure.hint = failure.hint or self.error_hint(run, case, failure.message)
                raise
            self.judge_case(call, case)
        return None

    def error_hint(self, run: Run, case: Planned, message: str) -> str | None:
        """A hint for a call that raised with this message (which quotes the submission's exception)."""
        return None

    def judge_case(self, call: CallOutput, case: Planned) -> None:
        raise NotImplementedError

    def what(self, call: CallOutput, case: Planned) -> str:
        return f"`{call.description}`"


class Differential(TableCheck):
    """fn(*inputs) against reference(*float64 inputs) on every case, within the case's dtype's tolerance.

    Set `tolerances` (one Tol, or one per dtype: the dtype of the first floating input decides),
    `bugs` (a KnownBugs table of simulators with the reference's signature) and `hint`. With
    `keep_dtype` the result must have the first floating input's dtype; with `scalar` it must be
    a 0-dim tensor (a loss); with `numbers` a one-element result is compared as a number (its
    shape is left to a Returns check)."""

    tolerances: Tolerances = DEFAULT_TOLERANCES
    bugs: KnownBugs | None = None
    hint: str | None = None
    nonfinite_hint: str = NONFINITE_HINT
    keep_dtype: bool = True
    dtype_hint: str | None = None
    shape_hint: str | None = None
    numbers: bool = False
    scalar: bool = False

    def reference(self, *args, **kwargs) -> torch.Tensor:
        raise NotImplementedError

    def expected(self, case: Planned) -> torch.Tensor:
        return self.reference(*case.args64(), **case.kwargs64())

    def known_bugs(self, case: Planned) -> Mapping[str, torch.Tensor]:
        return self.bugs(*case.args64(), **case.kwargs64()) if self.bugs is not None else {}

    def tol(self, case: Planned) -> Tol:
        """The case's tolerance: by default `tolerances` for the dtype of the first floating input."""
        return tol_for(self.tolerances, input_dtype(case.args))

    def judge_case(self, call: CallOutput, case: Planned) -> None:
        dtype = input_dtype(case.args)
        value = call.value()
        if self.scalar:
            expect_scalar_tensor(value, what=self.what(call, case), finite=False)
        if self.numbers and isinstance(value, TensorValue):
            value = TensorValue(as_number(value.data))
        expect_values(value, self.expected(case), what=self.what(call, case),
                      tol=self.tol(case), dtype=dtype if self.keep_dtype else None,
                      dtype_hint=self.dtype_hint, shape_hint=self.shape_hint,
                      known_bugs=self.known_bugs(case), hint=self.hint, nonfinite_hint=self.nonfinite_hint)


class Gradients(TableCheck):
    """Gradients of fn's result (weighted by `upstream(p, case)`, if any) with respect to the arguments
    in `wrt` (default: every floating-point tensor argument) against the reference's, by autograd in
    float64. A bug of `bugs` (simulators like the reference) is named only if it explains every gradient.
    `names(case)` names the arguments (default: the reference's parameter names), `grad_what` words the
    comparison ({name}, {call}), `grad_hint(call, case)` may depend on the call (e.g. its forward value)."""

    wrt: tuple | None = None
    tolerances: Tolerances = Tol(1e-4, 1e-6)
    bugs: KnownBugs | None = None
    hint: str | Mapping | None = None
    missing_hint: str | Mapping | None = MISSING_HINT
    grad_what: str = "d(output)/d{name} for `{call}`"

    def reference(self, *args, **kwargs) -> torch.Tensor:
        raise NotImplementedError

    def upstream(self, p: Planner, case) -> TensorRef | None:
        return None

    def call(self, p: Planner, case, args: tuple, kwargs: dict) -> Call:
        wrt = self.wrt if self.wrt is not None else tuple(
            i for i, a in enumerate(args) if isinstance(_value(a), torch.Tensor) and _value(a).is_floating_point())
        return Call(fn=self.function(case), args=args, kwargs=kwargs, grad_wrt=tuple(wrt),
                    upstream=self.upstream(p, case))

    def names(self, case: Planned) -> dict:
        params = list(inspect.signature(self.reference).parameters)
        return {i: params[i] for i in case.call.grad_wrt}

    def grad_hint(self, call: CallOutput, case: Planned) -> str | Mapping | None:
        return self.hint

    def bug_table(self, case: Planned) -> KnownBugs | None:
        """The bug simulators of this case (one table may cover several functions)."""
        return self.bugs

    def judge_case(self, call: CallOutput, case: Planned) -> None:
        args, kwargs, up, wrt = case.args64(), case.kwargs64(), case.upstream64(), case.call.grad_wrt
        bugs = self.bug_table(case)
        expected = autograd_grads(lambda *a: self.reference(*a, **kwargs), args, wrt, up)
        expect_gradients(call, dict(zip(wrt, expected, strict=True)), names=self.names(case),
                         tol=tol_for(self.tolerances, input_dtype(case.args)), what=self.grad_what,
                         hint=self.grad_hint(call, case), missing_hint=self.missing_hint,
                         known_bugs=bug_grads(bugs, args, wrt, up) if bugs is not None else None)


class Returns(TableCheck):
    """The result's kind, shape and dtype on every case (no values): override `shape` (and `dtype`)."""

    scalar: bool = False  # a 0-dim tensor (a loss)

    def shape(self, case: Planned) -> tuple | None:
        return None

    def dtype(self, case: Planned) -> torch.dtype | None:
        return case.case.dtype if isinstance(case.case, Case) else input_dtype(case.args)

    def judge_case(self, call: CallOutput, case: Planned) -> None:
        if self.scalar:
            expect_scalar_tensor(call.value(), what=self.what(call, case), dtype=self.dtype(case))
        else:
            expect_tensor(call.value(), what=self.what(call, case), shape=self.shape(case), dtype=self.dtype(case))


class Unchanged(NamedTuple):
    """A planned call whose inputs must come back unmodified; names: argument key -> name."""

    probe: str
    names: Mapping | Sequence[str]
    index: int = 0
    allow_error: bool = False  # judge the edit even if the call then raised
    unbuilt_note: str | None = None  # if its objects could not be built (other checks say why): skip, with this note


def expect_unmutated(call: CallOutput, names: Mapping | Sequence[str]) -> None:
    """Fail if the harness saw an input tensor change during the call."""
    if not isinstance(names, Mapping):
        names = dict(enumerate(names))
    if call.mutated:
        which = ", ".join(f"`{names.get(m, m)}`" for m in call.mutated)
        raise CheckFailure(f"`{call.description}` modified its input {which} in place.",
                           hint="Do not use in-place operations (`+=`, `.mul_()`, `x[...] = ...`) on inputs; "
                                "work on new tensors.")


class InputsUnchanged(Check):
    """`name = "inputs_unchanged"`; override `probes` to plan the calls and return their `Unchanged` entries."""

    name = "inputs_unchanged"

    def probes(self, p: Planner) -> list[Unchanged]:
        raise NotImplementedError

    def plan(self, p: Planner) -> list[Unchanged]:
        return [Unchanged(*u) for u in self.probes(p)]

    def judge(self, run: Run, planned: list[Unchanged]) -> str | None:
        notes = []
        for u in planned:
            payload = run.probes.get(u.probe)
            if (u.unbuilt_note and run.import_error is None and isinstance(payload, dict)
                    and isinstance(payload.get("error"), dict)):
                notes.append(u.unbuilt_note)
                continue
            expect_unmutated(run.call(u.probe, u.index, allow_error=u.allow_error), u.names)
        return " ".join(notes) or None


def input_dtype(args: Sequence) -> torch.dtype | None:
    """The dtype of the first floating-point tensor among the arguments."""
    return next((a.dtype for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()), None)


def _value(v):
    return v.value if isinstance(v, TensorRef) else v
