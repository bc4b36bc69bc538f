"""Checks for the DDPM noise schedules and the forward process q(x_t | x_0).

Expected values come from `reference_models.ddpm`, computed in float64 on
exactly the inputs the submission received (a float32 `alphas_cumprod` is
upcast as given, never recomputed from float64 betas).

Tolerances (contract: "relative 1e-3 where float32 rounding can reach it,
tighter elsewhere"), each measured against several float32 implementations:

* Schedules: |got - expected| <= 1e-3 * |expected| + 5e-7. The small absolute
  term is needed for the cosine schedule computed in float32: its first betas
  (about 4e-5 for T = 1000) are 1 - alpha_bar(i+1) / alpha_bar(i) with both
  alpha_bars near 1, so float32 rounding (2^-24 = 6e-8 per value) makes an
  absolute error of up to a few 1e-7, i.e. a relative error of up to ~3e-3
  there (measured: 1.3e-7 absolute, 2.3e-3 relative). 5e-7 is still far below
  every difference a bug makes; the one tight spot, a missing clip at the
  default max_beta (1.0 instead of 0.999: difference 1e-3 > 0.999e-3 + 5e-7),
  is decided with a margin of 5e-7, eight float32 ulps of 1.0.
* alphas_cumprod: relative 1e-3 (a float32 cumulative product over 1000 steps,
  or exp(cumsum(log(1 - beta))), has relative error below 1e-5).
* q_sample: |got - expected| <= 1e-5 * |expected| + 5e-5 (inputs are of order
  1: x0 uniform in [-1, 1], noise standard normal). alphas_cumprod may be
  float32, or float64 and legitimately cast to x0's float32 before the square
  root: rounding alpha_bar near 1 to float32 (error 3e-8) moves
  sqrt(1 - alpha_bar) by 3e-8 / (2 sqrt(1 - alpha_bar)), at most 2.4e-6 for
  the schedules used here (1 - alpha_bar_0 >= 4e-5), times |noise| <= ~5. So
  even for a float64 x0 the tolerance must be float32-sized when
  alphas_cumprod is float32. Every bug below changes some value by > 1e-3.
"""
from __future__ import annotations

import math

import torch

from grader.checks import (
    Call,
    Check,
    CheckFailure,
    Planner,
    Run,
    TensorRef,
    expect_close,
    expect_tensor,
    expect_unmutated,
    show_tensor,
)
from grader.outputs import OpaqueValue, TensorValue
from reference_models import ddpm as ref

SCHEDULE_RTOL, SCHEDULE_ATOL = 1e-3, 5e-7
CUMPROD_RTOL, CUMPROD_ATOL = 1e-3, 0.0
Q_RTOL, Q_ATOL = 1e-5, 5e-5
FLOATS = (torch.float32, torch.float64)

BROADCAST_HINT = ("alpha_bar_t has shape (B,); reshape it to (B, 1, ..., 1) with one 1 per non-batch dimension of "
                  "x0 before multiplying, e.g. `a.view(-1, *([1] * (x0.dim() - 1)))` or "
                  "`a.reshape((x0.shape[0],) + (1,) * (x0.dim() - 1))`. A fixed `.view(-1, 1, 1, 1)` or "
                  "`[:, None, None, None]` only works for 4-D images.")


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _returned_tensor(call, what: str) -> torch.Tensor:
    value = call.value()
    if isinstance(value, OpaqueValue) and "ndarray" in value.type_name:
        raise CheckFailure(f"{what}: returned a NumPy array; a `torch.Tensor` was expected.",
                           hint="Convert at the end with `torch.from_numpy(...)` or `torch.as_tensor(...)`.")
    if not isinstance(value, TensorValue):
        return expect_tensor(value, what=what)  # raises with "expected a tensor"
    return value.data


def _schedule(call, T: int, *, longer_hint: str) -> torch.Tensor:
    """A returned schedule: a finite float32/float64 tensor of shape (T,)."""
    what = f"`{call.description}`"
    betas = _returned_tensor(call, what)
    if tuple(betas.shape) != (T,):
        hint = None
        if tuple(betas.shape) == (T + 1,):
            hint = longer_hint
        elif tuple(betas.shape) == (T - 1,):
            hint = "You returned T - 1 betas; there is one beta per step t = 0 .. T-1."
        elif betas.dim() != 1:
            hint = "Return a 1-D tensor of T betas."
        raise CheckFailure(f"{what}: wrong shape.", expected=f"shape ({T},)", got=f"shape {tuple(betas.shape)}",
                           hint=hint)
    if betas.dtype not in FLOATS:
        raise CheckFailure(f"{what}: wrong dtype.", expected="torch.float32 or torch.float64", got=str(betas.dtype),
                           hint="Return a floating-point tensor (float32 or float64).")
    return expect_tensor(TensorValue(betas), what=what)  # finiteness


# ---------------------------------------------------------------------------------------------------------------
# linear schedule

LINEAR_CASES = [  # (T, kwargs, positional extra args)
    (2, {}, ()),
    (10, {}, ()),
    (1000, {}, ()),
    (10, {"beta_start": 1e-3, "beta_end": 0.05}, ()),
    (7, {}, (0.002, 0.3)),
]


class LinearSchedule(Check):
    name = "linear_schedule"
    title = "linear_beta_schedule: T betas from beta_start to beta_end inclusive (T = 2, 7, 10, 1000; other ends)"

    def plan(self, p: Planner):
        cases = []
        for i, (T, kwargs, extra) in enumerate(LINEAR_CASES):
            p.probe(f"linear{i}", [Call(fn="linear_beta_schedule", args=(T, *extra), kwargs=kwargs)])
            start = extra[0] if extra else kwargs.get("beta_start", 1e-4)
            end = extra[1] if extra else kwargs.get("beta_end", 0.02)
            cases.append((f"linear{i}", T, start, end))
        return cases

    def judge(self, run: Run, cases):
        for probe_id, T, start, end in cases:
            call = run.call(probe_id)
            got = _schedule(call, T, longer_hint=(
                "You returned T + 1 betas: `torch.linspace(beta_start, beta_end, T)` already gives T values "
                "including both ends."))
            expected = ref.linear_beta_schedule(T, start, end)
            bugs = {
                "Your betas stop one step short of beta_end: the end point must be included, as in "
                "`torch.linspace(beta_start, beta_end, T)` (not `np.linspace(..., endpoint=False)`, "
                "`torch.arange(T) / T` or `linspace(..., T + 1)[:-1]`).":
                    torch.linspace(start, end, T + 1, dtype=torch.float64)[:-1],
                "Your betas run from beta_end down to beta_start; they must increase from beta_start to beta_end.":
                    expected.flip(0),
                "These are the betas for the default beta_start=1e-4, beta_end=0.02: use the arguments "
                "you were given.": ref.linear_beta_schedule(T),
                "You squared a linspace of square roots (the 'scaled linear' schedule of latent diffusion); "
                "this exercise wants the betas themselves evenly spaced.":
                    torch.linspace(math.sqrt(start), math.sqrt(end), T, dtype=torch.float64) ** 2,
            }
            expect_close(got, expected, what=f"linear_beta_schedule({T}, beta_start={start}, beta_end={end})",
                         rtol=SCHEDULE_RTOL, atol=SCHEDULE_ATOL, known_bugs=bugs)


# ---------------------------------------------------------------------------------------------------------------
# cosine schedule


def _cosine_variant(T: int, s: float, max_beta: float | None, *, square: bool = True) -> torch.Tensor:
    """The reference formula with optional bugs (no clip: max_beta=None; alpha_bar not squared)."""
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2)
    alpha_bar = f ** 2 if square else f
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return betas if max_beta is None else betas.clamp(max=max_beta)


def _cosine_bugs(T: int, s: float, max_beta: float) -> dict[str, torch.Tensor]:
    bugs = {}  # the first match names the bug: argument-specific ones first
    if max_beta != 0.999:
        bugs["You clipped at 0.999 instead of at the argument max_beta."] = _cosine_variant(T, s, 0.999)
    if s != 0.008:
        bugs["These are the betas for the default s = 0.008: use the argument s."] = _cosine_variant(T, 0.008, max_beta)
    bugs |= {
        "You did not clip the betas at max_beta: the last beta comes out as (almost) 1, because "
        "alpha_bar(T) = cos(pi / 2) ** 2 is 0. Use `betas.clamp(max=max_beta)`.":
            _cosine_variant(T, s, None),
        "alpha_bar(t) is the *squared* cosine: cos(((t / T) + s) / (1 + s) * pi / 2) ** 2.":
            _cosine_variant(T, s, max_beta, square=False),
        "Your schedule behaves as if s = 0: the offset s goes inside the cosine, ((t / T) + s) / (1 + s).":
            _cosine_variant(T, 0.0, max_beta),
        "You returned 1 - alpha_bar(i + 1) instead of beta_i = 1 - alpha_bar(i + 1) / alpha_bar(i).":
            (1.0 - torch.cos((torch.arange(1, T + 1, dtype=torch.float64) / T + s) / (1 + s) * math.pi / 2) ** 2
             ).clamp(max=max_beta),
        "Your ratio is upside down: beta_i = 1 - alpha_bar(i + 1) / alpha_bar(i), not alpha_bar(i) / alpha_bar(i + 1).":
            (1.0 - 1.0 / (1.0 - _cosine_variant(T, s, None))).clamp(max=max_beta),
    }
    return bugs


def _plan_cosine(p: Planner, prefix: str, cases) -> list:
    planned = []
    for i, (T, kwargs, extra) in enumerate(cases):
        p.probe(f"{prefix}{i}", [Call(fn="cosine_beta_schedule", args=(T, *extra), kwargs=kwargs)])
        s = extra[0] if extra else kwargs.get("s", 0.008)
        max_beta = extra[1] if len(extra) > 1 else kwargs.get("max_beta", 0.999)
        planned.append((f"{prefix}{i}", T, s, max_beta))
    return planned


def _judge_cosine(run: Run, planned) -> None:
    for probe_id, T, s, max_beta in planned:
        call = run.call(probe_id)
        got = _schedule(call, T, longer_hint=(
            "You returned T + 1 values: alpha_bar is evaluated at t = 0 .. T (T + 1 points), and the T betas are "
            "the ratios of neighbours, 1 - alpha_bar[1:] / alpha_bar[:-1]."))
        expected = ref.cosine_beta_schedule(T, s, max_beta)
        expect_close(got, expected, what=f"cosine_beta_schedule({T}, s={s}, max_beta={max_beta})",
                     rtol=SCHEDULE_RTOL, atol=SCHEDULE_ATOL, known_bugs=_cosine_bugs(T, s, max_beta))


class CosineSchedule(Check):
    name = "cosine_schedule"
    title = "cosine_beta_schedule with the default s and max_beta (T = 2, 50, 1000)"

    def plan(self, p):
        return _plan_cosine(p, "cosine", [(2, {}, ()), (50, {}, ()), (1000, {}, ())])

    def judge(self, run, planned):
        _judge_cosine(run, planned)


class CosineParameters(Check):
    name = "cosine_parameters"
    title = "cosine_beta_schedule honours s and max_beta (other offsets; clipping active on several betas)"

    def plan(self, p):
        return _plan_cosine(p, "cosine_args", [
            (20, {"s": 0.05}, ()),
            (10, {"max_beta": 0.5}, ()),  # the last 3 betas are clipped
            (30, {"s": 0.1, "max_beta": 0.2}, ()),  # the last betas (from about t = 23) are clipped
            (16, {}, (0.02, 0.6)),  # positional s, max_beta
        ])

    def judge(self, run, planned):
        _judge_cosine(run, planned)


# ---------------------------------------------------------------------------------------------------------------
# alphas_cumprod


class AlphasCumprod(Check):
    name = "alphas_cumprod"
    title = "alphas_cumprod: the running product of (1 - beta), same shape and dtype as betas (float32, float64)"

    def plan(self, p):
        cases = [
            p.uniform(300, low=1e-4, high=0.05, dtype=torch.float32),
            p.add(ref.linear_beta_schedule(1000)),  # float64
            p.add(ref.cosine_beta_schedule(100).to(torch.float32)),  # ends with beta = 0.999
            p.uniform(2, low=0.1, high=0.6, dtype=torch.float64),
        ]
        for i, betas in enumerate(cases):
            p.probe(f"cumprod{i}", [Call(fn="alphas_cumprod", args=(betas,))])
        return [(f"cumprod{i}", betas.value) for i, betas in enumerate(cases)]

    def judge(self, run, cases):
        for probe_id, betas in cases:
            call = run.call(probe_id)
            what = f"`{call.description}`"
            got = _returned_tensor(call, what)
            expect_tensor(TensorValue(got), what=what, shape=tuple(betas.shape))
            if got.dtype != betas.dtype:
                raise CheckFailure(f"{what}: the result must have the dtype of betas.", expected=str(betas.dtype),
                                   got=str(got.dtype),
                                   hint="Compute with tensor operations on betas (`torch.cumprod(1 - betas, 0)`); "
                                        "`torch.tensor(list_of_floats)` or `.float()` give float32 whatever the "
                                        "input was.")
            b = betas.double()  # the reference on exactly the betas the submission saw
            expected = ref.alphas_cumprod(b)
            bugs = {
                "You summed instead of multiplying: alpha_bar_t is a cumulative *product*, "
                "`torch.cumprod(1 - betas, 0)`.":
                    torch.cumsum(1.0 - b, 0),
                "You multiplied the betas; alpha_bar_t is the product of the alphas, alpha_s = 1 - beta_s.":
                    torch.cumprod(b, 0),
                "Your product is shifted by one step (it starts at 1, the 'alphas_cumprod_prev' of DDPM code): "
                "alpha_bar_t includes (1 - beta_t) itself, prod over s <= t.":
                    torch.cat([torch.ones(1, dtype=torch.float64), expected[:-1]]),
                "You returned 1 - prod(beta) rather than prod(1 - beta).": 1.0 - torch.cumprod(b, 0),
            }
            expect_close(got, expected, what=f"alphas_cumprod(betas of {tuple(betas.shape)} {betas.dtype})",
                         rtol=CUMPROD_RTOL, atol=CUMPROD_ATOL, known_bugs=bugs)


# ---------------------------------------------------------------------------------------------------------------
# q_sample


def _t(p: Planner, B: int, T: int, *, edges: bool) -> TensorRef:
    """(B,) int64 timesteps; t[0] = 0 and, with edges, t[-1] = T - 1; otherwise all < T - 1."""
    t = torch.randint(0, T - 1, (B,), generator=p.generator, dtype=torch.int64)
    t[0] = 0
    if edges and B > 1:
        t[-1] = T - 1
    elif edges:
        t[0] = T - 1
    return p.add(t)


def _q_case(p: Planner, probe_id: str, shape: tuple, abar: torch.Tensor, *, dtype=torch.float32,
            edges: bool = True) -> dict:
    x0 = p.uniform(*shape, low=-1.0, high=1.0, dtype=dtype)
    noise = p.randn(*shape, dtype=dtype)
    t = _t(p, shape[0], abar.shape[0], edges=edges)
    a = p.add(abar)
    p.probe(probe_id, [Call(fn="q_sample", args=(x0, t, noise, a))])
    return {"id": probe_id, "x0": x0.value, "t": t.value, "noise": noise.value, "abar": a.value}


def _q_reference(case: dict, *, shift: int = 0, fa=torch.sqrt, fb=torch.sqrt, swap: bool = False) -> torch.Tensor:
    """x_t in float64 from the inputs as given; shift/fa/fb/swap produce the typical bugs."""
    x0, noise, abar = case["x0"].double(), case["noise"].double(), case["abar"].double()
    T = abar.shape[0]
    t = case["t"] + shift
    if shift > 0:
        t = t.clamp(max=T - 1)
    a = abar[t].reshape((x0.shape[0],) + (1,) * (x0.dim() - 1))  # t - 1 at t = 0 wraps to -1, as in Python
    c0, c1 = fa(a), fb(1.0 - a)
    if swap:
        c0, c1 = c1, c0
    return c0 * x0 + c1 * noise


def _q_bugs(case: dict) -> dict[str, torch.Tensor]:
    bugs = {
        "Your timesteps are off by one: t is a 0-based index, use `alphas_cumprod[t]`, not `alphas_cumprod[t - 1]`.":
            _q_reference(case, shift=-1),
        "Your timesteps are off by one: t is a 0-based index, use `alphas_cumprod[t]`, not `alphas_cumprod[t + 1]`.":
            _q_reference(case, shift=1),
        "Both coefficients need a square root: sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise.":
            _q_reference(case, fa=lambda a: a, fb=lambda a: a),
        "The coefficient of x0 is sqrt(alpha_bar_t), not alpha_bar_t.": _q_reference(case, fa=lambda a: a),
        "The coefficient of the noise is sqrt(1 - alpha_bar_t), not 1 - alpha_bar_t.":
            _q_reference(case, fb=lambda a: a),
        "You swapped the coefficients: x0 is scaled by sqrt(alpha_bar_t) and the noise by sqrt(1 - alpha_bar_t).":
            _q_reference(case, swap=True),
    }
    x0 = case["x0"]
    if x0.dim() >= 2 and x0.shape[-1] == x0.shape[0]:  # (B,) * (B, ..., B) broadcasts along the *last* dimension
        a = case["abar"].double()[case["t"]]
        bugs["alpha_bar_t of shape (B,) was broadcast along the last dimension of x0, not the batch dimension. "
             + BROADCAST_HINT] = a.sqrt() * x0.double() + (1 - a).sqrt() * case["noise"].double()
    return bugs


def _q_error_hint(message: str) -> str | None:
    if "out of bounds" in message or "out of range" in message:
        return ("t is a 0-based index into alphas_cumprod: its values run from 0 to T - 1, so use "
                "`alphas_cumprod[t]` (not `t + 1`).")
    if any(word in message for word in ("must match the size", "broadcast", "shape", "size mismatch")):
        return BROADCAST_HINT
    return None


def _q_result(run: Run, case: dict) -> torch.Tensor:
    try:
        call = run.call(case["id"])
    except CheckFailure as failure:
        if failure.hint is None:
            failure.hint = _q_error_hint(failure.message)
        raise
    what = f"`{call.description}`"
    got = _returned_tensor(call, what)
    shape = tuple(case["x0"].shape)
    if tuple(got.shape) != shape:
        raise CheckFailure(f"{what}: the result must have x0's shape.", expected=f"shape {shape}",
                           got=f"shape {tuple(got.shape)}", hint=BROADCAST_HINT)
    if not got.is_floating_point():
        raise CheckFailure(f"{what}: expected a floating-point tensor.", got=str(got.dtype))
    return expect_tensor(TensorValue(got), what=what)


def _q_compare(got: torch.Tensor, case: dict) -> None:
    x0, abar = case["x0"], case["abar"]
    expect_close(got, _q_reference(case),
                 what=(f"q_sample for x0 of shape {tuple(x0.shape)} {str(x0.dtype).removeprefix('torch.')}, "
                       f"alphas_cumprod {str(abar.dtype).removeprefix('torch.')} (T = {abar.shape[0]}), "
                       f"t = {show_tensor(case['t'], limit=8)}"),
                 rtol=Q_RTOL, atol=Q_ATOL, known_bugs=_q_bugs(case))


def _abar(kind: str, T: int, dtype) -> torch.Tensor:
    betas = ref.linear_beta_schedule(T) if kind == "linear" else ref.cosine_beta_schedule(T)
    return ref.alphas_cumprod(betas).to(dtype)


class QSampleValues(Check):
    name = "q_sample_values"
    title = ("q_sample: sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise for image batches (B, C, H, W), "
             "t from 0 to T-1")

    def plan(self, p):
        return [
            # interior first: t in [0, T-2] (includes 0), so an off-by-one t + 1 gets a named hint
            _q_case(p, "q_interior", (16, 3, 8, 8), _abar("linear", 1000, torch.float32), edges=False),
            _q_case(p, "q_edges_linear", (8, 2, 5, 5), _abar("linear", 1000, torch.float32)),
            _q_case(p, "q_edges_cosine", (12, 1, 6, 7), _abar("cosine", 1000, torch.float32)),
        ]

    def judge(self, run, cases):
        for case in cases:
            _q_compare(_q_result(run, case), case)


class QSampleShapes(Check):
    name = "q_sample_shapes"
    title = "q_sample broadcasts alpha_bar_t over any number of non-batch dimensions: (B, D), (B, L, C), B = 1"

    def plan(self, p):
        abar = _abar("linear", 500, torch.float64)
        return [
            _q_case(p, "q_2d", (32, 10), abar),
            _q_case(p, "q_2d_square", (6, 6), abar),  # (B,) * (B, B) broadcasts silently along the wrong axis
            _q_case(p, "q_3d", (5, 7, 3), abar),
            _q_case(p, "q_3d_last_b", (4, 9, 4), abar),
            _q_case(p, "q_b1_4d", (1, 3, 4, 4), abar),
            _q_case(p, "q_b1_2d", (1, 8), abar),
            _q_case(p, "q_5d", (3, 2, 2, 3, 2), abar),
        ]

    def judge(self, run, cases):
        for case in cases:
            got = _q_result(run, case)
            _q_compare(got, case)


class QSampleDtypes(Check):
    name = "q_sample_dtypes"
    title = "q_sample returns x0's dtype and device for float32/float64 x0 with float32/float64 alphas_cumprod"

    def plan(self, p):
        cases = []
        for i, (x_dtype, a_dtype, kind) in enumerate([
            (torch.float32, torch.float64, "linear"),
            (torch.float64, torch.float32, "linear"),
            (torch.float32, torch.float32, "cosine"),
            (torch.float64, torch.float64, "cosine"),
            (torch.float32, torch.float64, "cosine"),
        ]):
            cases.append(_q_case(p, f"q_dtype{i}", (6, 3, 5, 5), _abar(kind, 1000, a_dtype), dtype=x_dtype))
        return cases

    def judge(self, run, cases):
        for case in cases:
            got = _q_result(run, case)
            call = run.call(case["id"])
            x0, abar = case["x0"], case["abar"]
            if got.dtype != x0.dtype:
                raise CheckFailure(
                    f"`{call.description}`: the result must have x0's dtype.", expected=str(x0.dtype),
                    got=str(got.dtype),
                    hint=(f"alphas_cumprod is {abar.dtype} here. Multiplying it with x0 promotes to the wider dtype: "
                          "convert the gathered alpha_bar_t to x0's dtype (`.to(x0.dtype)`) before using it, or "
                          "convert the result back."))
            device = call.tensor().device
            if device != x0.device.type:
                raise CheckFailure(f"`{call.description}`: the result must be on x0's device.",
                                   expected=x0.device.type, got=device)
            _q_compare(got, case)


class InputsUnchanged(Check):
    name = "inputs_unchanged"
    title = "q_sample and alphas_cumprod do not modify their inputs in place"

    def plan(self, p):
        q = _q_case(p, "q_inplace", (8, 3, 6, 6), _abar("linear", 200, torch.float32), edges=False)
        betas = p.add(ref.linear_beta_schedule(50).to(torch.float32))
        p.probe("cumprod_inplace", [Call(fn="alphas_cumprod", args=(betas,))])
        return [(q["id"], {0: "x0", 1: "t", 2: "noise", 3: "alphas_cumprod"}), ("cumprod_inplace", {0: "betas"})]

    def judge(self, run, probes):
        for probe_id, names in probes:
            expect_unmutated(run.call(probe_id), names)


CHECKS = [LinearSchedule(), CosineSchedule(), CosineParameters(), AlphasCumprod(), QSampleValues(), QSampleShapes(),
          QSampleDtypes(), InputsUnchanged()]
