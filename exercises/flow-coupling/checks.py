"""Checks for the affine coupling layer of RealNVP and the flow's density in bits/dim.

The conditioner `net` is a public seeded MLP (Linear(D, 16), Tanh, Linear(16, 2D)) built inside
the sandbox from weights drawn here; the judge rebuilds the same MLP in float64 and evaluates
`reference_models.flow` on the very float32 inputs the submission received. The output layer's
weights are drawn large enough that the log-scales s_raw reach |s_raw| ~ 3, so tanh, exp and the
masks all change the result by O(1) when they are wrong.

Tolerances:
- the coupling (float32 only: the net's parameters are float32, so the inputs are too): rtol 1e-4,
  atol 1e-5, the contract's. A correct float32 computation is within a few 1e-7 (the MLP, one tanh,
  one exp), whether it writes y = x * exp(s) + t, the blend m * x + (1 - m) * (...) or indexing.
- the Jacobian: log|det dy/dx| of the contract's map by float64 autograd on D <= 6; a float32
  log-det sum of <= 6 tanh values is within 1e-6, so rtol 1e-4, atol 1e-5.
- the densities: float32 rtol 1e-4, atol 1e-5 (a sum of <= 784 terms of ~1: relative rounding
  <= 784 * 6e-8 = 5e-5 even summed sequentially); float64 rtol 1e-9, atol 1e-9 (the contract's),
  which a float32 constant such as torch.tensor(math.log(2)) (relative error 3e-8) does not meet.
"""
from __future__ import annotations

import math

import torch

from grader.checks import (
    Call,
    Check,
    CheckFailure,
    Differential,
    InputsUnchanged,
    KnownBugs,
    ObjectRef,
    Planned,
    Planner,
    TableCheck,
    TensorValue,
    Tol,
    expect_gradients,
    expect_tensor,
    expect_values,
    f64,
    grid,
)
from grader.checks import Unchanged as UnchangedCall
from grader.harness.objects import mlp
from reference_models import flow as ref

FWD, INV = "affine_coupling_forward", "affine_coupling_inverse"
HIDDEN = 16
COUPLING_TOL = Tol(1e-4, 1e-5)
DENSITY_TOL = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-9, 1e-9)}

# (B, D, mask) for every coupling check: alternating, half and half, an irregular mask, every
# dimension transformed (mask all 0), one dimension, and a batch of one.
MASKS = [(6, 4, [1, 0, 1, 0]), (5, 6, [1, 1, 1, 0, 0, 0]), (7, 5, [0, 1, 1, 0, 0]), (4, 3, [0, 0, 0]),
         (3, 1, [0]), (1, 6, [0, 1, 0, 1, 0, 1])]


# ---------------------------------------------------------------------------------------------
# the conditioner and the coupling's inputs

def _spec(d: int) -> dict:
    return {"sizes": [d, HIDDEN, 2 * d], "activation": "tanh", "out_activation": None}


def _net_state(p: Planner, d: int) -> dict[str, torch.Tensor]:
    g = p.generator
    return {"0.weight": torch.randn(HIDDEN, d, generator=g) * (1.5 / math.sqrt(d)),
            "0.bias": torch.randn(HIDDEN, generator=g) * 0.5,
            "2.weight": torch.randn(2 * d, HIDDEN, generator=g) * (4.0 / math.sqrt(HIDDEN)),
            "2.bias": torch.randn(2 * d, generator=g) * 0.5}


def net64(state: dict) -> torch.nn.Module:
    """The sandbox's MLP on the trusted side, in float64."""
    d = state["0.weight"].shape[1]
    spec = _spec(d)
    net = mlp(spec["sizes"], spec["activation"], spec["out_activation"])
    net.load_state_dict(state)
    return net.double()


def _pair(call, what: str) -> tuple[torch.Tensor, torch.Tensor, TensorValue, TensorValue]:
    value = call.value()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailure(f"{what}: expected a pair (y, log_det).", got=f"{type(value).__name__}",
                           hint="Return both: `return y, log_det`.")
    y, log_det = value
    return expect_tensor(y, what=f"{what}, y"), expect_tensor(log_det, what=f"{what}, log_det"), y, log_det


class Coupling(TableCheck):
    """One probe per MASKS row: the function `fn` on (input, mask, net), the net built from drawn weights."""

    cases = MASKS

    def plan(self, p: Planner) -> list[Planned]:
        planned = []
        for i, (b, d, mask) in enumerate(self.cases):
            state = _net_state(p, d)
            x, m = p.randn(b, d, std=1.5), p.add(torch.tensor(mask, dtype=torch.float32))
            v = self.input(x.value.double(), m.value.double(), net64(state))
            v = x if v is None else p.add(v.float())
            objects = {"net": {"type": "mlp", **_spec(d), "state": state}}
            probe = p.probe(f"{self.name}{i}", [Call(fn=self.fn, args=(v, m, ObjectRef("net")))], objects=objects)
            planned.append(Planned(probe, state, (v.value, m.value), {}))  # the case is the net's weights
        return planned

    def input(self, x, mask, net) -> torch.Tensor | None:
        """What the function is called on (None: the drawn x itself)."""
        return None

    def bugs(self, v, mask, net) -> dict:
        return {}

    def reference(self, v, mask, net):
        raise NotImplementedError

    def compare(self, call, v, mask, net, expected, bugs) -> None:
        """Raise CheckFailure unless the call's result matches `expected` (float64, no grad)."""
        raise NotImplementedError

    def judge_case(self, call, case: Planned) -> None:
        v, mask = f64(*case.args)
        net = net64(case.case)
        with torch.no_grad():
            self.compare(call, v, mask, net, self.reference(v, mask, net), self.bugs(v, mask, net))


# ---------------------------------------------------------------------------------------------
# affine_coupling_forward

def _forward_with(x, mask, net, *, squash=torch.tanh, mask_s=True, mask_t=True, condition=None, swap=False):
    """The forward map with one part of it changed, as a typical bug changes it: (y, log_det)."""
    cond = x * mask if condition is None else condition(x, mask)
    s_raw, t = net(cond).chunk(2, dim=-1)
    if swap:
        s_raw, t = t, s_raw
    s = squash(s_raw) * ((1 - mask) if mask_s else 1)
    t = t * ((1 - mask) if mask_t else 1)
    return x * torch.exp(s) + t, s.sum(-1)


FORWARD_BUGS = KnownBugs({
    "The log-scale is bounded: s = tanh(s_raw) * (1 - mask), before exp.":
        lambda x, m, net: _forward_with(x, m, net, squash=lambda s: s),
    "t must be multiplied by (1 - mask) too, so the conditioning dimensions pass through unchanged.":
        lambda x, m, net: _forward_with(x, m, net, mask_t=False),
    "s must be multiplied by (1 - mask): the conditioning dimensions are neither scaled nor counted in log_det.":
        lambda x, m, net: _forward_with(x, m, net, mask_s=False),
    "The net sees only the conditioning dimensions: call net(x * mask), not net(x).":
        lambda x, m, net: _forward_with(x, m, net, condition=lambda v, mm: v),
    "The mask marks the conditioning dimensions with 1: the net sees x * mask, the others are transformed.":
        lambda x, m, net: _forward_with(x, 1 - m, net),
    "The first half of net's output is s_raw, the second t: `s_raw, t = net(x * mask).chunk(2, dim=-1)`.":
        lambda x, m, net: _forward_with(x, m, net, swap=True),
})


class ForwardValues(Coupling):
    name, fn = "forward_values", FWD
    title = "affine_coupling_forward's y matches y = x * exp(s) + t (6 masks, D = 1 to 6, B = 1 included)"

    def reference(self, x, mask, net):
        return ref.affine_coupling_forward(x, mask, net)[0]

    def bugs(self, x, mask, net):
        return {h: yl[0] for h, yl in FORWARD_BUGS(x, mask, net).items()}

    def compare(self, call, x, mask, net, expected, bugs):
        what = f"`{call.description}`"
        _, _, y, _ = _pair(call, what)
        expect_values(y, expected, what=f"{what}, y", tol=COUPLING_TOL, dtype=torch.float32, known_bugs=bugs,
                      hint="s_raw, t = net(x * mask).chunk(2, dim=-1); s = tanh(s_raw) * (1 - mask); "
                           "t = t * (1 - mask); y = x * exp(s) + t.")


def _log_abs_det_jacobian(x, mask, net) -> torch.Tensor:
    """log|det dy_i/dx_i| of every row of the contract's map, by float64 autograd (no reference log-det)."""
    rows = []
    with torch.enable_grad():
        for row in x:
            jac = torch.autograd.functional.jacobian(lambda v: ref.affine_coupling_forward(v[None], mask, net)[0][0],
                                                     row)
            rows.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(rows)


class ForwardLogDet(Coupling):
    name, fn = "forward_log_det", FWD
    title = "affine_coupling_forward's log_det equals log|det dy/dx| of the autograd Jacobian, shape (B,)"

    def reference(self, x, mask, net):
        return _log_abs_det_jacobian(x, mask, net)

    def bugs(self, x, mask, net):
        out = {h: yl[1] for h, yl in FORWARD_BUGS(x, mask, net).items()}
        s = ref.affine_coupling_forward(x, mask, net)[1]
        out.update({
            "log_det is the sum of s over the dimensions of a sample, not the mean.": s / x.shape[-1],
            "log_det is log|det dy/dx| = +sum(s) for the forward map (the inverse has -sum(s)).": -s,
            "log|det| of y = x * exp(s) + t is sum(s): the Jacobian's diagonal is exp(s), and log(exp(s)) = s.":
                torch.exp(s_free(x, mask, net)).sum(-1),
        })
        return out

    def compare(self, call, x, mask, net, expected, bugs):
        what = f"`{call.description}`"
        _, _, _, log_det = _pair(call, what)
        expect_values(log_det, expected, what=f"{what}, log_det", tol=COUPLING_TOL, dtype=torch.float32,
                      known_bugs=bugs, hint="dy/dx is triangular after reordering, with exp(s) on its diagonal, so "
                                            "log|det dy/dx| = s.sum(-1) with s = tanh(s_raw) * (1 - mask).",
                      shape_hint="One log-det per sample: sum over the last dimension, shape (B,).")


def s_free(x, mask, net):
    """s = tanh(s_raw) * (1 - mask), per dimension."""
    return torch.tanh(net(x * mask).chunk(2, dim=-1)[0]) * (1 - mask)


class ConditioningExact(Coupling):
    name, fn = "conditioning_dims_exact", FWD
    title = "affine_coupling_forward passes the mask == 1 dimensions through bit for bit"
    cases = [c for c in MASKS if 1 in c[2]]

    def reference(self, x, mask, net):
        return x[:, mask == 1]

    def compare(self, call, x, mask, net, expected, bugs):
        what = f"`{call.description}`"
        y, _, _, _ = _pair(call, what)
        if y.shape != x.shape:
            raise CheckFailure(f"{what}: y has the wrong shape.", expected=f"shape {tuple(x.shape)}",
                               got=f"shape {tuple(y.shape)}")
        keep = mask == 1
        got = y[:, keep].double()
        if not torch.equal(got, expected):
            index = int((got != expected).flatten().nonzero()[0])
            raise CheckFailure(
                f"{what}: y differs from x on a conditioning dimension (mask == 1); the first: "
                f"expected {expected.flatten()[index].item():.9g}, got {got.flatten()[index].item():.9g}.",
                hint="Where mask is 1, s and t are 0, so y = x exactly: multiply both s and t by (1 - mask).")


# ---------------------------------------------------------------------------------------------
# affine_coupling_inverse

def _inverse_with(y, mask, net, *, scale=-1.0, order="subtract_first", squash=torch.tanh):
    s_raw, t = net(y * mask).chunk(2, dim=-1)
    s, t = squash(s_raw) * (1 - mask), t * (1 - mask)
    return (y - t) * torch.exp(scale * s) if order == "subtract_first" else y * torch.exp(scale * s) - t


INVERSE_BUGS = KnownBugs({
    "The inverse divides by exp(s): x = (y - t) * exp(-s), not * exp(s).":
        lambda y, m, net: _inverse_with(y, m, net, scale=1.0),
    "Subtract t before undoing the scale: x = (y - t) * exp(-s), not y * exp(-s) - t.":
        lambda y, m, net: _inverse_with(y, m, net, order="scale_first"),
    "The inverse uses the same bounded log-scale as the forward map: s = tanh(s_raw) * (1 - mask).":
        lambda y, m, net: _inverse_with(y, m, net, squash=lambda s: s),
})


class InverseValues(Coupling):
    name, fn = "inverse_values", INV
    title = "affine_coupling_inverse undoes the forward map: inverse(forward(x)) == x (6 masks)"

    def input(self, x, mask, net):
        with torch.no_grad():
            return ref.affine_coupling_forward(x, mask, net)[0]

    def reference(self, y, mask, net):
        return ref.affine_coupling_inverse(y, mask, net)

    def bugs(self, y, mask, net):
        return INVERSE_BUGS(y, mask, net)

    def compare(self, call, y, mask, net, expected, bugs):
        expect_values(call.value(), expected, what=f"`{call.description}` on y = forward(x)", tol=COUPLING_TOL,
                      dtype=torch.float32, known_bugs=bugs,
                      hint="s and t come from net(y * mask) (y * mask == x * mask); x = (y - t) * exp(-s).")


# ---------------------------------------------------------------------------------------------

class CouplingReturns(Check):
    name = "coupling_returns"
    title = ("affine_coupling_forward returns (y (B, D), log_det (B,)) and inverse x (B, D), float32, "
             "differentiable in the net's parameters")

    def plan(self, p: Planner):
        b, d = 5, 4
        state = _net_state(p, d)
        x, m = p.randn(b, d), p.add(torch.tensor([1.0, 0.0, 0.0, 1.0]))
        calls = [Call(fn=FWD, args=(x, m, ObjectRef("net"))), Call(fn=INV, args=(x, m, ObjectRef("net")))]
        return p.probe("coupling_returns", calls, objects={"net": {"type": "mlp", **_spec(d), "state": state}}), b, d

    def judge(self, run, planned):
        probe, b, d = planned
        fwd, inv = run.call(probe, 0), run.call(probe, 1)
        what = f"`{fwd.description}`"
        _pair(fwd, what)
        y, log_det = fwd.value()
        expect_tensor(y, what=f"{what}, y", shape=(b, d), dtype=torch.float32)
        expect_tensor(log_det, what=f"{what}, log_det", shape=(b,), dtype=torch.float32,
                      shape_hint="One log-det per sample: sum over the last dimension, shape (B,).")
        expect_tensor(inv.value(), what=f"`{inv.description}`", shape=(b, d), dtype=torch.float32)
        for part, value, call in (("y", y, fwd), ("log_det", log_det, fwd), ("x", inv.value(), inv)):
            if not value.requires_grad:
                raise CheckFailure(
                    f"`{call.description}`: {part} does not require grad, so a flow trained on it would not learn.",
                    hint="Keep the computation differentiable in the net's parameters: no `torch.no_grad()`, "
                         "`.detach()` or `.item()` on the way.")
        return None


# ---------------------------------------------------------------------------------------------
# the density

LOGPROB_BUGS = KnownBugs({
    "log N(z; 0, 1) = -z^2 / 2 - log(2 pi) / 2 per dimension: the constant -log(2 pi) / 2 is missing.":
        lambda z: (-0.5 * z.pow(2)).flatten(1).sum(1),
    "Sum over the dimensions of a sample, not the mean.": lambda z: ref.standard_normal_logprob(z) / z[0].numel(),
    "Halve the square: -z^2 / 2, not -z^2.":
        lambda z: ref.standard_normal_logprob(z) - 0.5 * z.pow(2).flatten(1).sum(1),
    "The constant is -log(2 pi) / 2 = -log(sqrt(2 pi)), not -log(2 pi).":
        lambda z: ref.standard_normal_logprob(z) - 0.5 * math.log(2 * math.pi) * z[0].numel(),
    "Take the log of each density before summing: a product of many densities underflows to 0 and its log is "
    "-inf.": lambda z: torch.exp(-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).flatten(1).prod(1).log(),
})


class LogprobValues(Differential):
    name, fn = "logprob_values", "standard_normal_logprob"
    title = "standard_normal_logprob matches the closed form over every non-batch dimension (float32 and float64)"
    cases = grid(shapes=[(1, 1), (5, 3), (4, 2, 3, 3), (3, 784)], dtypes=[torch.float32, torch.float64])
    tolerances, bugs = DENSITY_TOL, LOGPROB_BUGS
    hint = "log N(z; 0, I) = sum over all non-batch dimensions of (-z^2 / 2 - log(2 pi) / 2)."
    shape_hint = "One value per sample: sum over every non-batch dimension (e.g. z.flatten(1).sum(1)), shape (B,)."

    def inputs(self, p, case):
        return (p.randn(*case.shape, dtype=case.dtype, std=2.0),)

    def reference(self, z):
        return ref.standard_normal_logprob(z)


BITS_BUGS = KnownBugs({
    "Bits, not nats: divide by num_dims * ln 2.":
        lambda lp, n, n_bins=256: ref.bits_per_dim(lp, n, n_bins) * math.log(2),
    "The dequantised density lives on [0, 1]^D: add num_dims * ln(n_bins) to -log_px (the bins have width "
    "1 / n_bins).": lambda lp, n, n_bins=256: -lp / (n * math.log(2)),
    "Negative log-likelihood: -log_px + num_dims * ln(n_bins), not log_px + ...":
        lambda lp, n, n_bins=256: (lp + n * math.log(n_bins)) / (n * math.log(2)),
    "Per dimension: divide by num_dims too.": lambda lp, n, n_bins=256: ref.bits_per_dim(lp, n, n_bins) * n,
    "Use n_bins, not a fixed 256.": lambda lp, n, n_bins=256: ref.bits_per_dim(lp, n, 256),
})


class BitsPerDimValues(Differential):
    name, fn = "bits_per_dim_values", "bits_per_dim"
    title = "bits_per_dim matches (-log_px + D ln n_bins) / (D ln 2) (D = 1, 12, 784; n_bins 256, 32, 2)"
    cases = grid(shapes=[(1, 1), (4, 12), (6, 784)], dtypes=[torch.float32, torch.float64],
                 kwargs=[{}, {"n_bins": 32}]) + grid(shapes=[(3, 784)], dtypes=[torch.float64], kwargs=[{"n_bins": 2}])
    tolerances, bugs = DENSITY_TOL, BITS_BUGS
    hint = "bits/dim = (-log_px + num_dims * ln(n_bins)) / (num_dims * ln 2), with math.log (nats)."

    def inputs(self, p, case):
        b, d = case.shape
        # densities of a model at 1 to 7 bits/dim: log_px = D * (ln n_bins - bits * ln 2)
        bits = 1.0 + 6.0 * torch.rand(b, generator=p.generator, dtype=torch.float64)
        n_bins = case.kwargs.get("n_bins", 256)
        return p.add((d * (math.log(n_bins) - bits * math.log(2))).to(case.dtype)), d

    def reference(self, log_px, num_dims, n_bins=256):
        return ref.bits_per_dim(log_px, num_dims, n_bins)


class DensityGradients(Check):
    name = "density_gradients"
    title = "standard_normal_logprob and bits_per_dim are differentiable: their gradients match the closed forms"

    def plan(self, p: Planner):
        z, g = p.randn(4, 2, 5), p.randn(4)
        lp, g2 = p.randn(3, std=100.0), p.randn(3)
        calls = [Call(fn="standard_normal_logprob", args=(z,), grad_wrt=(0,), upstream=g),
                 Call(fn="bits_per_dim", args=(lp, 10), grad_wrt=(0,), upstream=g2)]
        return p.probe("density_gradients", calls), f64(z, g, lp, g2)

    def judge(self, run, planned):
        probe, (z, g, lp, g2) = planned
        expect_gradients(run.call(probe, 0), {0: -z * g[:, None, None]}, names={0: "z"}, tol=COUPLING_TOL,
                         what="d(sum(g * standard_normal_logprob(z)))/d{name}", hint="d log N(z)/dz = -z.")
        expect_gradients(run.call(probe, 1), {0: -g2 / (10 * math.log(2))}, names={0: "log_px"}, tol=COUPLING_TOL,
                         what="d(sum(g * bits_per_dim(log_px, 10)))/d{name}", hint="d bits/d log_px = -1 / (D ln 2).")
        return None


class Unchanged(InputsUnchanged):
    title = "No function modifies its input tensors or the net's parameters"

    def plan(self, p: Planner):
        d, state = 5, _net_state(p, d=5)
        x, m = p.randn(6, d), p.add(torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0]))
        net = {"net": {"type": "mlp", **_spec(d), "state": state}}
        calls = [Call(fn=FWD, args=(x, m, ObjectRef("net")), record_state=("net",)),
                 Call(fn=INV, args=(x, m, ObjectRef("net")), record_state=("net",))]
        probe = p.probe("inplace_coupling", calls, objects=net)
        return [UnchangedCall(probe, ("x", "mask"), 0), UnchangedCall(probe, ("y", "mask"), 1),
                UnchangedCall(p.call("inplace_logprob", "standard_normal_logprob", p.randn(3, 4)), ("z",)),
                UnchangedCall(p.call("inplace_bits", "bits_per_dim", p.randn(3), 4), ("log_px",))], state

    def judge(self, run, planned):
        unchanged, state = planned
        super().judge(run, unchanged)
        for i in (0, 1):
            call = run.call(unchanged[0].probe, i)
            got = call.state("net")
            if any(not torch.equal(got.get(k, torch.empty(0)), v) for k, v in state.items()):
                raise CheckFailure(f"`{call.description}` changed the net's parameters.",
                                   hint="Only call net(...): do not train it, step an optimizer or edit its weights.")
        return None


CHECKS = [ForwardValues(), ForwardLogDet(), ConditioningExact(), InverseValues(), CouplingReturns(),
          LogprobValues(), BitsPerDimValues(), DensityGradients(), Unchanged()]
