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
    CheckFailure,
    Differential,
    InputsUnchanged,
    KnownBugs,
    Planner,
    TensorRef,
    Tol,
    expect_tensor,
    show_tensor,
)
from reference_models import ddpm as ref

SCHEDULE_TOL, CUMPROD_TOL, Q_TOL = Tol(1e-3, 5e-7), Tol(1e-3, 0.0), Tol(1e-5, 5e-5)
FLOATS = (torch.float32, torch.float64)

BROADCAST_HINT = ("alpha_bar_t has shape (B,); reshape it to (B, 1, ..., 1) with one 1 per non-batch dimension of "
                  "x0 before multiplying, e.g. `a.view(-1, *([1] * (x0.dim() - 1)))` or "
                  "`a.reshape((x0.shape[0],) + (1,) * (x0.dim() - 1))`. A fixed `.view(-1, 1, 1, 1)` or "
                  "`[:, None, None, None]` only works for 4-D images.")


# ---------------------------------------------------------------------------------------------------------------
# schedules: a case is (T, kwargs, positional extra args); bug simulators get (T, *the other arguments)


class Schedule(Differential):
    """T betas: shape (T,) (hints for T + 1 and T - 1), float32 or float64, then the values."""

    tolerances, keep_dtype = SCHEDULE_TOL, False
    longer_hint = ""

    def inputs(self, p, case):
        return (case[0], *case[2])

    def kwargs(self, p, case):
        return dict(case[1])

    def known_bugs(self, case):
        return self.bugs(*case.bind(self.reference).values())

    def what(self, call, case):
        T, *rest = case.bind(self.reference).items()
        return f"{self.fn}({T[1]}, " + ", ".join(f"{k}={v}" for k, v in rest) + ")"

    def judge_case(self, call, case):
        T, what = case.args[0], f"`{call.description}`"
        got = expect_tensor(call.value(), what=what, finite=False)
        shorter = "You returned T - 1 betas; there is one beta per step t = 0 .. T-1."
        hint = {(T + 1,): self.longer_hint, (T - 1,): shorter}.get(
            tuple(got.shape), "Return a 1-D tensor of T betas." if got.dim() != 1 else None)
        expect_tensor(call.value(), what=what, shape=(T,), finite=False, shape_hint=hint)
        if got.dtype not in FLOATS:
            raise CheckFailure(f"{what}: wrong dtype.", expected="torch.float32 or torch.float64", got=str(got.dtype),
                               hint="Return a floating-point tensor (float32 or float64).")
        super().judge_case(call, case)


class LinearSchedule(Schedule):
    name, fn = "linear_schedule", "linear_beta_schedule"
    title = "linear_beta_schedule: T betas from beta_start to beta_end inclusive (T = 2, 7, 10, 1000; other ends)"
    cases = [(2, {}, ()), (10, {}, ()), (1000, {}, ()), (10, {"beta_start": 1e-3, "beta_end": 0.05}, ()),
             (7, {}, (0.002, 0.3))]
    reference = staticmethod(ref.linear_beta_schedule)
    longer_hint = ("You returned T + 1 betas: `torch.linspace(beta_start, beta_end, T)` already gives T values "
                   "including both ends.")
    bugs = KnownBugs({
        "Your betas stop one step short of beta_end: the end point must be included, as in "
        "`torch.linspace(beta_start, beta_end, T)` (not `np.linspace(..., endpoint=False)`, "
        "`torch.arange(T) / T` or `linspace(..., T + 1)[:-1]`).":
            lambda T, a, b: torch.linspace(a, b, T + 1, dtype=torch.float64)[:-1],
        "Your betas run from beta_end down to beta_start; they must increase from beta_start to beta_end.":
            lambda T, a, b: ref.linear_beta_schedule(T, a, b).flip(0),
        "These are the betas for the default beta_start=1e-4, beta_end=0.02: use the arguments "
        "you were given.": lambda T, a, b: ref.linear_beta_schedule(T),
        "You squared a linspace of square roots (the 'scaled linear' schedule of latent diffusion); "
        "this exercise wants the betas themselves evenly spaced.":
            lambda T, a, b: torch.linspace(math.sqrt(a), math.sqrt(b), T, dtype=torch.float64) ** 2,
    })


def _cosine(T: int, s: float, max_beta: float | None, *, square: bool = True) -> torch.Tensor:
    """The reference formula with optional bugs (no clip: max_beta=None; alpha_bar not squared)."""
    f = torch.cos((torch.arange(T + 1, dtype=torch.float64) / T + s) / (1 + s) * math.pi / 2)
    alpha_bar = f ** 2 if square else f
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return betas if max_beta is None else betas.clamp(max=max_beta)


class CosineSchedule(Schedule):
    name, fn = "cosine_schedule", "cosine_beta_schedule"
    title = "cosine_beta_schedule with the default s and max_beta (T = 2, 50, 1000)"
    cases = [(2, {}, ()), (50, {}, ()), (1000, {}, ())]
    reference = staticmethod(ref.cosine_beta_schedule)
    longer_hint = ("You returned T + 1 values: alpha_bar is evaluated at t = 0 .. T (T + 1 points), and the T betas "
                   "are the ratios of neighbours, 1 - alpha_bar[1:] / alpha_bar[:-1].")
    bugs = KnownBugs({  # the first match names the bug: argument-specific ones first
        "You clipped at 0.999 instead of at the argument max_beta.": lambda T, s, m: _cosine(T, s, 0.999),
        "These are the betas for the default s = 0.008: use the argument s.": lambda T, s, m: _cosine(T, 0.008, m),
        "You did not clip the betas at max_beta: the last beta comes out as (almost) 1, because "
        "alpha_bar(T) = cos(pi / 2) ** 2 is 0. Use `betas.clamp(max=max_beta)`.": lambda T, s, m: _cosine(T, s, None),
        "alpha_bar(t) is the *squared* cosine: cos(((t / T) + s) / (1 + s) * pi / 2) ** 2.":
            lambda T, s, m: _cosine(T, s, m, square=False),
        "Your schedule behaves as if s = 0: the offset s goes inside the cosine, ((t / T) + s) / (1 + s).":
            lambda T, s, m: _cosine(T, 0.0, m),
        "You returned 1 - alpha_bar(i + 1) instead of beta_i = 1 - alpha_bar(i + 1) / alpha_bar(i).":
            lambda T, s, m: (1.0 - torch.cos((torch.arange(1, T + 1, dtype=torch.float64) / T + s) / (1 + s)
                                             * math.pi / 2) ** 2).clamp(max=m),
        "Your ratio is upside down: beta_i = 1 - alpha_bar(i + 1) / alpha_bar(i), not alpha_bar(i) / alpha_bar(i + 1).":
            lambda T, s, m: (1.0 - 1.0 / (1.0 - _cosine(T, s, None))).clamp(max=m),
    })


class CosineParameters(CosineSchedule):
    name = "cosine_parameters"
    title = "cosine_beta_schedule honours s and max_beta (other offsets; clipping active on several betas)"
    cases = [(20, {"s": 0.05}, ()),
             (10, {"max_beta": 0.5}, ()),  # the last 3 betas are clipped
             (30, {"s": 0.1, "max_beta": 0.2}, ()),  # the last betas (from about t = 23) are clipped
             (16, {}, (0.02, 0.6))]  # positional s, max_beta


class AlphasCumprod(Differential):
    name, fn, tolerances = "alphas_cumprod", "alphas_cumprod", CUMPROD_TOL
    title = "alphas_cumprod: the running product of (1 - beta), same shape and dtype as betas (float32, float64)"
    reference = staticmethod(ref.alphas_cumprod)  # on exactly the betas the submission saw
    dtype_hint = ("The result must have the dtype of betas: compute with tensor operations on betas "
                  "(`torch.cumprod(1 - betas, 0)`); `torch.tensor(list_of_floats)` or `.float()` give float32 "
                  "whatever the input was.")
    bugs = KnownBugs({
        "You summed instead of multiplying: alpha_bar_t is a cumulative *product*, `torch.cumprod(1 - betas, 0)`.":
            lambda b: torch.cumsum(1.0 - b, 0),
        "You multiplied the betas; alpha_bar_t is the product of the alphas, alpha_s = 1 - beta_s.":
            lambda b: torch.cumprod(b, 0),
        "Your product is shifted by one step (it starts at 1, the 'alphas_cumprod_prev' of DDPM code): "
        "alpha_bar_t includes (1 - beta_t) itself, prod over s <= t.":
            lambda b: torch.cat([torch.ones(1, dtype=torch.float64), ref.alphas_cumprod(b)[:-1]]),
        "You returned 1 - prod(beta) rather than prod(1 - beta).": lambda b: 1.0 - torch.cumprod(b, 0),
    })

    def table(self, p):
        return [p.uniform(300, low=1e-4, high=0.05, dtype=torch.float32),
                p.add(ref.linear_beta_schedule(1000)),  # float64
                p.add(ref.cosine_beta_schedule(100).to(torch.float32)),  # ends with beta = 0.999
                p.uniform(2, low=0.1, high=0.6, dtype=torch.float64)]

    def inputs(self, p, betas):
        return (betas,)

    def what(self, call, case):
        return f"alphas_cumprod(betas of {tuple(case.args[0].shape)} {case.args[0].dtype})"


# ---------------------------------------------------------------------------------------------------------------
# q_sample: a case is (x0 shape, alphas_cumprod, x0 dtype, t with both edges)


def _t(p: Planner, B: int, T: int, *, edges: bool) -> TensorRef:
    """(B,) int64 timesteps; t[0] = 0 and, with edges, t[-1] = T - 1; otherwise all < T - 1."""
    t = torch.randint(0, T - 1, (B,), generator=p.generator, dtype=torch.int64)
    t[0] = 0
    if edges:
        t[-1] = T - 1  # for B = 1 that is t[0]
    return p.add(t)


def _q_inputs(p: Planner, shape: tuple, abar: torch.Tensor, dtype=torch.float32, edges: bool = True) -> tuple:
    x0 = p.uniform(*shape, low=-1.0, high=1.0, dtype=dtype)
    noise = p.randn(*shape, dtype=dtype)
    return x0, _t(p, shape[0], abar.shape[0], edges=edges), noise, p.add(abar)


def _q(x0, t, noise, abar, *, shift: int = 0, fa=torch.sqrt, fb=torch.sqrt, swap: bool = False) -> torch.Tensor:
    """x_t in float64 from the inputs as given; shift/fa/fb/swap produce the typical bugs."""
    x0, noise, abar = x0.double(), noise.double(), abar.double()
    t = (t + shift).clamp(max=abar.shape[0] - 1) if shift > 0 else t + shift
    a = abar[t].reshape((x0.shape[0],) + (1,) * (x0.dim() - 1))  # t - 1 at t = 0 wraps to -1, as in Python
    c0, c1 = fa(a), fb(1.0 - a)
    return c1 * x0 + c0 * noise if swap else c0 * x0 + c1 * noise


def _no_bug():
    raise RuntimeError("not a possible bug on these inputs")


Q_BUGS = KnownBugs({
    "Your timesteps are off by one: t is a 0-based index, use `alphas_cumprod[t]`, not `alphas_cumprod[t - 1]`.":
        lambda *a: _q(*a, shift=-1),
    "Your timesteps are off by one: t is a 0-based index, use `alphas_cumprod[t]`, not `alphas_cumprod[t + 1]`.":
        lambda *a: _q(*a, shift=1),
    "Both coefficients need a square root: sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise.":
        lambda *a: _q(*a, fa=lambda a: a, fb=lambda a: a),
    "The coefficient of x0 is sqrt(alpha_bar_t), not alpha_bar_t.": lambda *a: _q(*a, fa=lambda a: a),
    "The coefficient of the noise is sqrt(1 - alpha_bar_t), not 1 - alpha_bar_t.": lambda *a: _q(*a, fb=lambda a: a),
    "You swapped the coefficients: x0 is scaled by sqrt(alpha_bar_t) and the noise by sqrt(1 - alpha_bar_t).":
        lambda *a: _q(*a, swap=True),
    # (B,) * (B, ..., B) broadcasts along the *last* dimension (a RuntimeError, so no hint, for other shapes)
    "alpha_bar_t of shape (B,) was broadcast along the last dimension of x0, not the batch dimension. "
    + BROADCAST_HINT: lambda x0, t, noise, abar: abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * noise
    if x0.dim() >= 2 and x0.shape[-1] == x0.shape[0] else _no_bug(),
})


def _abar(kind: str, T: int, dtype) -> torch.Tensor:
    betas = ref.linear_beta_schedule(T) if kind == "linear" else ref.cosine_beta_schedule(T)
    return ref.alphas_cumprod(betas).to(dtype)


class QSample(Differential):
    fn, tolerances, keep_dtype, shape_hint, bugs = "q_sample", Q_TOL, False, BROADCAST_HINT, Q_BUGS
    reference = staticmethod(_q)

    def inputs(self, p, case):
        return _q_inputs(p, *case)

    def error_hint(self, run, case, message):
        if "out of bounds" in message or "out of range" in message:
            return ("t is a 0-based index into alphas_cumprod: its values run from 0 to T - 1, so use "
                    "`alphas_cumprod[t]` (not `t + 1`).")
        if any(word in message for word in ("must match the size", "broadcast", "shape", "size mismatch")):
            return BROADCAST_HINT
        return None

    def what(self, call, case):
        x0, t, _, abar = case.args
        return (f"q_sample for x0 of shape {tuple(x0.shape)} {str(x0.dtype).removeprefix('torch.')}, "
                f"alphas_cumprod {str(abar.dtype).removeprefix('torch.')} (T = {abar.shape[0]}), "
                f"t = {show_tensor(t, limit=8)}")


class QSampleValues(QSample):
    name = "q_sample_values"
    title = ("q_sample: sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise for image batches (B, C, H, W), "
             "t from 0 to T-1")
    # interior first: t in [0, T-2] (includes 0), so an off-by-one t + 1 gets a named hint
    cases = [((16, 3, 8, 8), _abar("linear", 1000, torch.float32), torch.float32, False),
             ((8, 2, 5, 5), _abar("linear", 1000, torch.float32)),
             ((12, 1, 6, 7), _abar("cosine", 1000, torch.float32))]


class QSampleShapes(QSample):
    name = "q_sample_shapes"
    title = "q_sample broadcasts alpha_bar_t over any number of non-batch dimensions: (B, D), (B, L, C), B = 1"
    # (6, 6) and (4, 9, 4): (B,) * (..., B) broadcasts silently along the wrong axis
    cases = [(shape, _abar("linear", 500, torch.float64))
             for shape in [(32, 10), (6, 6), (5, 7, 3), (4, 9, 4), (1, 3, 4, 4), (1, 8), (3, 2, 2, 3, 2)]]


class QSampleDtypes(QSample):
    name = "q_sample_dtypes"
    title = "q_sample returns x0's dtype and device for float32/float64 x0 with float32/float64 alphas_cumprod"
    cases = [((6, 3, 5, 5), _abar(kind, 1000, a_dtype), x_dtype) for x_dtype, a_dtype, kind in [
        (torch.float32, torch.float64, "linear"), (torch.float64, torch.float32, "linear"),
        (torch.float32, torch.float32, "cosine"), (torch.float64, torch.float64, "cosine"),
        (torch.float32, torch.float64, "cosine")]]

    def judge_case(self, call, case):
        x0, abar, what = case.args[0], case.args[3], f"`{call.description}`"
        expect_tensor(call.value(), what=what, shape=tuple(x0.shape), dtype=x0.dtype, shape_hint=BROADCAST_HINT,
                      finite=False, dtype_hint=(
                          f"The result must have x0's dtype. alphas_cumprod is {abar.dtype} here. Multiplying it with "
                          "x0 promotes to the wider dtype: convert the gathered alpha_bar_t to x0's dtype "
                          "(`.to(x0.dtype)`) before using it, or convert the result back."))
        if call.tensor().device != x0.device.type:
            raise CheckFailure(f"{what}: the result must be on x0's device.", expected=x0.device.type,
                               got=call.tensor().device)
        super().judge_case(call, case)


class Unchanged(InputsUnchanged):
    title = "q_sample and alphas_cumprod do not modify their inputs in place"

    def probes(self, p):
        q = _q_inputs(p, (8, 3, 6, 6), _abar("linear", 200, torch.float32), edges=False)
        betas = p.add(ref.linear_beta_schedule(50).to(torch.float32))
        return [(p.probe("q_inplace", [Call(fn="q_sample", args=q)]), ("x0", "t", "noise", "alphas_cumprod")),
                (p.call("cumprod_inplace", "alphas_cumprod", betas), ("betas",))]


CHECKS = [LinearSchedule(), CosineSchedule(), CosineParameters(), AlphasCumprod(), QSampleValues(), QSampleShapes(),
          QSampleDtypes(), Unchanged()]
