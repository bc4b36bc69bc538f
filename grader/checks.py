"""The library exercise checks are written with (implemented in grader/checklib/).

A check plans probes on the trusted side (`plan`), and judges what came back
(`judge`), raising CheckFailure with a student-facing message to fail. Points
and visibility come from exercise.toml, never from here. docs/authoring-exercises.md
says how to compose a checks.py from these parts.
"""
from __future__ import annotations

from .checkbase import Check
from .checklib.bugs import KnownBugs, first_match
from .checklib.grads import autograd_grads, bug_grads, expect_gradients
from .checklib.state import StateDiff, build_objects, compare_states, default_init, snapshot
from .checklib.stats import (
    Test,
    correlation,
    correlation_bound,
    dkw_bound,
    independence_test,
    ks_distance,
    ks_test,
    mean_test,
    normal_two_sided_bound,
    variance_test,
)
from .checklib.table import (
    DEFAULT_TOLERANCES,
    Case,
    Differential,
    Gradients,
    InputsUnchanged,
    Planned,
    Returns,
    TableCheck,
    Unchanged,
    expect_unmutated,
    grid,
    input_dtype,
)
from .checklib.values import (
    Tol,
    Tolerances,
    as_number,
    close,
    expect_close,
    expect_equal,
    expect_finite,
    expect_floats,
    expect_scalar_tensor,
    expect_tensor,
    expect_values,
    f64,
    nan_pattern_bug,
    tol_for,
    within,
)
from .feedback import CheckFailure, show_tensor
from .outputs import CallOutput, Run, TensorValue
from .probes import Call, ObjectRef, Planner, TensorRef
from .untrusted import untrusted

__all__ = [
    "Call", "CallOutput", "Case", "Check", "CheckFailure", "DEFAULT_TOLERANCES", "Differential", "Gradients",
    "InputsUnchanged", "KnownBugs", "ObjectRef", "Planned", "Planner", "Returns", "Run", "StateDiff", "TableCheck",
    "TensorRef", "TensorValue", "Test", "Tol", "Tolerances", "Unchanged", "as_number", "autograd_grads", "bug_grads",
    "build_objects", "close", "compare_states", "correlation", "correlation_bound", "default_init", "dkw_bound",
    "expect_close", "expect_equal", "expect_finite", "expect_floats", "expect_gradients", "expect_scalar_tensor",
    "expect_tensor", "expect_unmutated", "expect_values", "f64", "first_match", "grid", "independence_test",
    "input_dtype", "ks_distance", "ks_test", "mean_test", "nan_pattern_bug", "normal_two_sided_bound", "show_tensor",
    "snapshot", "tol_for", "untrusted", "variance_test", "within",
]
