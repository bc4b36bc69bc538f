"""Checks for denoising score matching and Langevin dynamics.

Expected values come from `reference_models.score_matching`, computed in float64 on exactly the
inputs the submission received. The score model is the public "conditioned" network of
grader/harness/objects.py (an MLP on x and the one-hot code of sigma_idx), built in the sandbox in
x's dtype and on the trusted side in float64 with the same weights. Tolerances (contract §6-11):
float64 to rtol 1e-9, float32 to rtol 1e-4 / atol 1e-5.

Statistical checks (each fails a correct submission with probability at most 1e-6 over the
grading's seeded draws):

* dsm_optimum: x ~ N(0, s^2 I) (n = 20,000 rows of d = 4), the exact score of the noised data,
  s*(x~) = -x~ / (s^2 + sigma^2), as a linear score model. The per-row loss is then
  0.5 s^2 / (s^2 + sigma^2) times a chi-squared variable with d degrees of freedom, so the batch
  mean is that factor times d +- sqrt(2 d / n) (CLT; a z bound for p = 1e-6 / 4 per case, half of
  1e-6 over the two cases). The scores 0.5 s* and 2 s* must give a larger loss: their excess is
  0.5 sigma^2 (c - 1)^2 mean|s*|^2 plus a cross term of mean 0 (s* is the optimum); to undo the
  excess that term would have to reach 35 (case 1) or 53 (case 2) of its standard deviations
  sqrt(d s^2 / n) / (sigma (s^2 + sigma^2)), far less likely than the other half of 1e-6.
* langevin_moments: one step from a point x with 20,000 standard normal noise rows; the mean of
  x' is x + step/2 s(x) (z-test per coordinate, Bonferroni) and its variance is step (normal
  approximation of the variance ratio), p = 1e-6 / 4 each over two cases and two tests.
Nothing here is fitted to the files in wrong/.
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
    Planner,
    Returns,
    Tol,
    as_number,
    close,
    default_init,
    expect_scalar_tensor,
    expect_tensor,
    mean_test,
    normal_two_sided_bound,
    variance_test,
)
from grader.harness.objects import network
from reference_models import score_matching as ref

F32, F64 = torch.float32, torch.float64
TOL = {F32: Tol(1e-4, 1e-5), F64: Tol(1e-9, 1e-12)}
HIDDEN = 16
P = 1e-6
SIGMAS = torch.logspace(math.log10(5.0), -2, 10, dtype=F64)  # Song & Ermon: geometric, descending


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def model_spec(p: Planner, shape: tuple, n_index: int, dtype) -> dict:
    """A conditioned MLP for x of this shape; PyTorch's default Linear init drawn from the planner."""
    d = math.prod(shape[1:])
    spec = {"type": "conditioned", "sizes": [d, HIDDEN, d], "n_index": n_index, "activation": "tanh",
            "dtype": _name(dtype)}
    return {**spec, "state": default_init(p, network(spec), dtype=dtype)}


def linear_score(d: int, slope: float, dtype) -> dict:
    """score_model(x, 0) = slope * x: one noise level, no hidden layer."""
    weight = torch.cat([slope * torch.eye(d, dtype=F64), torch.zeros(d, 1, dtype=F64)], dim=1)
    return {"type": "conditioned", "sizes": [d, d], "n_index": 1, "activation": "tanh", "dtype": _name(dtype),
            "state": {"net.0.weight": weight.to(dtype), "net.0.bias": torch.zeros(d, dtype=dtype)}}


def model64(spec: dict):
    net = network({**spec, "dtype": "float64"})
    net.load_state_dict({k: v.to(F64) for k, v in spec["state"].items()})
    return net


# ---------------------------------------------------------------------------------------------------------------
# dsm_loss


def _dsm(model, x, sigmas, idx, noise, *, weight=2, sign=-1, divide=True, clean=False, reduce="mean", half=True):
    """The loss with one thing changed (weight: the power of sigma in lambda)."""
    sigma = sigmas[idx].view(-1, *([1] * (x.dim() - 1)))
    target = sign * noise / sigma if divide else sign * noise
    diff = model(x if clean else x + sigma * noise, idx) - target
    per = (0.5 if half else 1.0) * sigma.reshape(-1) ** weight * diff.pow(2).flatten(1).sum(1)
    if reduce == "dims":
        per = per / x[0].numel()
    return per.sum() if reduce == "sum" else per.mean()


DSM_BUGS = KnownBugs({
    "The weighting lambda(sigma) = sigma^2 is missing: multiply each sample's squared error by sigma^2.":
        lambda *a: _dsm(*a, weight=0),
    "The target is the score of the noise kernel, -noise / sigma: you used +noise / sigma.":
        lambda *a: _dsm(*a, sign=1),
    "The target is -noise / sigma (the score of N(x, sigma^2 I) at x + sigma * noise), not -noise.":
        lambda *a: _dsm(*a, divide=False),
    "The score model must be evaluated at the noisy x + sigma * noise, not at the clean x.":
        lambda *a: _dsm(*a, clean=True),
    "Average over the batch, not sum: the loss is the batch mean of the per-sample losses.":
        lambda *a: _dsm(*a, reduce="sum"),
    "Sum the squared error over the non-batch dimensions (a squared norm); you averaged over them.":
        lambda *a: _dsm(*a, reduce="dims"),
    "The factor 1/2 is missing: 0.5 * sigma^2 * ||s - target||^2.": lambda *a: _dsm(*a, half=False),
    "sigma was used where lambda(sigma) = sigma^2 belongs.": lambda *a: _dsm(*a, weight=1),
})


class WithModel(Differential):
    """Cases: (shape, x dtype, sigmas dtype, ...). ObjectRefs become the float64 network for the reference."""

    def tol(self, case):
        return TOL[case.case[1]]

    def _args64(self, case):
        return [model64(case.objects[a.name]) if isinstance(a, ObjectRef) else a for a in case.args64()]

    def expected(self, case):
        return self.reference(*self._args64(case), **case.kwargs64())

    def known_bugs(self, case):
        return self.bugs(*self._args64(case), **case.kwargs64()) if self.bugs is not None else {}

    def objects(self, p, case):
        return {"model": model_spec(p, case[0], len(SIGMAS), case[1])}

    def what(self, call, case):
        shape, dtype, sdtype, *_ = case.case
        return f"{self.fn} on {_name(dtype)} x of shape {shape} with {_name(sdtype)} sigmas"


def _dsm_inputs(p: Planner, shape, dtype, sdtype):
    idx = torch.randint(0, len(SIGMAS), (shape[0],), generator=p.generator)
    idx[0], idx[-1] = 0, len(SIGMAS) - 1
    return (ObjectRef("model"), p.uniform(*shape, low=-1, high=1, dtype=dtype), p.add(SIGMAS.to(sdtype)), p.add(idx),
            p.randn(*shape, dtype=dtype))


class DsmValues(WithModel):
    name, fn, scalar, bugs = "dsm_values", "dsm_loss", True, DSM_BUGS
    title = "dsm_loss: the batch mean of 0.5 sigma^2 ||s(x + sigma noise) + noise / sigma||^2 (2-D and 4-D, 10 sigmas)"
    reference = staticmethod(ref.dsm_loss)
    cases = [((32, 5), F32, F32), ((16, 2, 3, 3), F64, F64), ((24, 6), F32, F64), ((1, 4), F64, F64)]

    def inputs(self, p, case):
        return _dsm_inputs(p, *case)


class DsmDifferentiable(Returns):
    name, fn, scalar = "dsm_differentiable", "dsm_loss", True
    title = "dsm_loss returns a 0-dim tensor in x's dtype that carries the graph to the score model's parameters"
    cases = [((16, 4), F32, F64), ((8, 3), F64, F32)]

    def objects(self, p, case):
        return {"model": model_spec(p, case[0], len(SIGMAS), case[1])}

    def inputs(self, p, case):
        return _dsm_inputs(p, *case)

    def dtype(self, case):
        return case.case[1]

    def judge_case(self, call, case):
        super().judge_case(call, case)
        if not call.value().requires_grad:
            raise CheckFailure(f"`{call.description}`: the loss does not require grad, so training cannot "
                               "differentiate it with respect to the score model's parameters.",
                               hint="Keep the computation differentiable: no `.item()`, `.detach()`, "
                                    "`torch.no_grad()` or `torch.tensor(...)` on the way to the loss.")


OPTIMUM_CASES = [(1.0, 0.5), (2.0, 1.5)]  # (data std s, sigma)
SLOPES = (1.0, 0.5, 2.0)


class DsmOptimum(Check):
    name = "dsm_optimum"
    title = ("dsm_loss at the true score of noised Gaussian data is 0.5 d s^2 / (s^2 + sigma^2) (statistically) and "
             "below the loss of 0.5x and 2x that score")

    def plan(self, p):
        planned = []
        for k, (s, sigma) in enumerate(OPTIMUM_CASES):
            n, d = 20_000, 4
            x, noise = p.randn(n, d, dtype=F64, std=s), p.randn(n, d, dtype=F64)
            sigmas, idx = p.add(torch.tensor([sigma], dtype=F64)), p.add(torch.zeros(n, dtype=torch.int64))
            objects = {f"c{i}": linear_score(d, -c / (s ** 2 + sigma ** 2), F64) for i, c in enumerate(SLOPES)}
            calls = [Call(fn="dsm_loss", args=(ObjectRef(f"c{i}"), x, sigmas, idx, noise)) for i in range(len(SLOPES))]
            planned.append((p.probe(f"dsm_optimum{k}", calls, objects=objects), s, sigma, n, d))
        return planned

    def judge(self, run, planned):
        for probe, s, sigma, n, d in planned:
            losses = []
            for i in range(len(SLOPES)):
                call = run.call(probe, i)
                losses.append(float(as_number(expect_scalar_tensor(call.value(), what=f"`{call.description}`"))))
            optimum = ref.gaussian_dsm_optimum(s, sigma, d)
            z = (losses[0] / optimum * d - d) / math.sqrt(2 * d / n)
            what = (f"dsm_loss on {n} samples of N(0, {s}^2 I_{d}) with sigma = {sigma} and the true score "
                    f"s*(x) = -x / ({s}^2 + {sigma}^2)")
            if not abs(z) <= normal_two_sided_bound(P / (2 * len(planned))):
                raise CheckFailure(f"{what}: the loss is {abs(z):.1f} standard errors from its expectation.",
                                   expected=f"{optimum:.5g} (+- {optimum * math.sqrt(2 / (d * n)):.2g})",
                                   got=f"{losses[0]:.6g}",
                                   hint="At the optimum each sample contributes 0.5 sigma^2 ||s* + noise / sigma||^2, "
                                        "summed over dimensions, averaged over the batch.")
            for c, loss in zip(SLOPES[1:], losses[1:], strict=True):
                if not loss > losses[0]:
                    raise CheckFailure(f"{what}: the score {c} s* gives a loss no larger than the true score's.",
                                       expected=f"more than {losses[0]:.6g}", got=f"{loss:.6g}",
                                       hint="The denoising target is -noise / sigma, the score of the noise kernel.")


# ---------------------------------------------------------------------------------------------------------------
# Langevin


def _langevin(model, x, idx, step, noise, *, half=True, root=True):
    return x + (step / 2 if half else step) * model(x, idx) + (math.sqrt(step) if root else step) * noise


LANGEVIN_BUGS = KnownBugs({
    "The drift is step_size / 2 * score, not step_size * score.": lambda *a: _langevin(*a, half=False),
    "The noise is scaled by sqrt(step_size), not step_size.": lambda *a: _langevin(*a, root=False),
})


class LangevinValues(WithModel):
    name, fn, bugs = "langevin_values", "langevin_step", LANGEVIN_BUGS
    title = "langevin_step: x + step_size / 2 * score_model(x, sigma_idx) + sqrt(step_size) * noise"
    reference = staticmethod(ref.langevin_step)
    cases = [((16, 5), F32, F32, 0.01), ((6, 2, 3, 3), F64, F64, 2e-5), ((10, 4), F32, F32, 0.5)]

    def inputs(self, p, case):
        shape, dtype, _, step = case
        idx = p.randint(0, len(SIGMAS), shape[0])
        return ObjectRef("model"), p.randn(*shape, dtype=dtype), idx, step, p.randn(*shape, dtype=dtype)

    def what(self, call, case):
        return super().what(call, case).split(" with ")[0] + f", step_size = {case.case[3]}"


class LangevinMoments(Check):
    name = "langevin_moments"
    title = ("one Langevin step from a point, 20,000 standard normal noise draws: mean x + step/2 s(x), variance step "
             "(statistical)")
    cases = [(4, 0.1, F32), (3, 0.02, F64)]

    def plan(self, p):
        planned = []
        for k, (d, step, dtype) in enumerate(self.cases):
            n = 20_000
            spec = model_spec(p, (n, d), len(SIGMAS), dtype)
            point = torch.randn(1, d, generator=p.generator, dtype=F64)
            x = p.add(point.expand(n, d).to(dtype))
            idx = p.add(torch.full((n,), 3, dtype=torch.int64))
            noise = p.randn(n, d, dtype=dtype)
            probe = p.probe(f"langevin_moments{k}", [Call(fn="langevin_step", args=(ObjectRef("m"), x, idx, step,
                                                                                      noise))], objects={"m": spec})
            planned.append((probe, spec, point, step, dtype))
        return planned

    def judge(self, run, planned):
        for probe, spec, point, step, dtype in planned:
            call = run.call(probe)
            got = expect_tensor(call.value(), what=f"`{call.description}`", shape=(20_000, point.shape[1]),
                                dtype=dtype).double()
            with torch.no_grad():
                mean = point[0] + step / 2 * model64(spec)(point, torch.tensor([3]))[0]
            std = torch.full_like(mean, math.sqrt(step))
            what = f"one Langevin step from one point x, {got.shape[0]} noise draws (step_size = {step})"
            test = mean_test(got, mean, std, P / (2 * 2 * len(planned)))
            if test.failed:
                raise CheckFailure(f"{what}: the sample mean of coordinate {test.index} is {test.statistic:.1f} "
                                   "standard errors from x + step_size / 2 * score(x).",
                                   expected=f"{mean[test.index].item():.6g}", got=f"{got.mean(0)[test.index]:.6g}",
                                   hint="The drift is step_size / 2 * score_model(x, sigma_idx).")
            test = variance_test(got, std, P / (2 * 2 * len(planned)))
            if test.failed:
                raise CheckFailure(f"{what}: the variance of coordinate {test.index} is not step_size.",
                                   expected=f"{step:.6g}", got=f"{got.var(0)[test.index]:.6g}",
                                   hint="Scale the noise by sqrt(step_size).")


# ---------------------------------------------------------------------------------------------------------------


def _step_bug(power=2, last=True, invert=False):
    def bug(sigmas, i, eps):
        ref_sigma = sigmas[-1] if last else sigmas[0]
        ratio = ref_sigma / sigmas[i] if invert else sigmas[i] / ref_sigma
        return torch.tensor(eps * float(ratio) ** power, dtype=F64)
    return bug


class AnnealedStep(Differential):
    name, fn, numbers, keep_dtype = "annealed_step", "annealed_step_size", True, False
    title = "annealed_step_size: eps * sigmas[i]^2 / sigmas[-1]^2 as a Python float, for every level i"
    tolerances = TOL
    bugs = KnownBugs({
        "The ratio sigmas[i] / sigmas[-1] must be squared: alpha_i = eps * sigma_i^2 / sigma_L^2.": _step_bug(power=1),
        "Divide by the smallest sigma, sigmas[-1] (the sigmas are descending), not sigmas[0].": _step_bug(last=False),
        "The ratio is upside down: alpha_i = eps * sigma_i^2 / sigma_L^2 grows with sigma_i.": _step_bug(invert=True),
    })
    cases = [(F64, i, 2e-5) for i in (0, 4, 9)] + [(F32, 2, 5e-5), (F32, 9, 1e-3)]

    def inputs(self, p, case):
        dtype, i, eps = case
        return p.add(SIGMAS.to(dtype)), i, eps

    def reference(self, sigmas, i, eps):
        return torch.tensor(ref.annealed_step_size(sigmas, i, eps), dtype=F64)

    def tol(self, case):
        return TOL[case.case[0]]

    def judge_case(self, call, case):
        value = call.value()
        if not isinstance(value, float):
            raise CheckFailure(f"`{call.description}`: expected a Python float.", got=type(value).__name__,
                               hint="Convert the result with `float(...)` or `.item()`.")
        expected = self.expected(case).item()
        if not close(value, expected, self.tol(case)):
            bug = next((h for h, v in self.known_bugs(case).items() if close(value, v, Tol(1e-4, 0))), None)
            raise CheckFailure(f"`{call.description}`: wrong step size.", expected=f"{expected:.7g}",
                               got=f"{value:.7g}", hint=bug)


class Dtypes(Returns):
    name = "dtypes"
    title = "dsm_loss and langevin_step keep x's dtype with float32/float64 x and float64/float32 sigmas"
    cases = [("dsm_loss", F32, F64), ("dsm_loss", F64, F32), ("langevin_step", F32, F64), ("langevin_step", F64, F32)]

    def function(self, case):
        return case[0]

    def objects(self, p, case):
        return {"model": model_spec(p, (6, 3), len(SIGMAS), case[1])}

    def inputs(self, p, case):
        fn, dtype, sdtype = case
        x, noise = p.randn(6, 3, dtype=dtype), p.randn(6, 3, dtype=dtype)
        idx = p.randint(0, len(SIGMAS), 6)
        if fn == "dsm_loss":
            return ObjectRef("model"), x, p.add(SIGMAS.to(sdtype)), idx, noise
        return ObjectRef("model"), x, idx, 0.01, noise

    def dtype(self, case):
        return case.case[1]

    def judge_case(self, call, case):
        what = f"`{call.description}`"
        hint = ("The result must have x's dtype: cast sigmas[sigma_idx] to x's dtype (`.to(x.dtype)`) before "
                "using it; the sigmas may be float64 when x is float32.")
        if case.case[0] == "dsm_loss":
            expect_scalar_tensor(call.value(), what=what)
        expect_tensor(call.value(), what=what, dtype=case.case[1], dtype_hint=hint)


class Unchanged(InputsUnchanged):
    title = "dsm_loss and langevin_step do not modify their inputs in place"

    def probes(self, p):
        model = {"model": model_spec(p, (8, 3), len(SIGMAS), F32)}
        x, noise, idx = p.randn(8, 3), p.randn(8, 3), p.randint(0, len(SIGMAS), 8)
        sigmas = p.add(SIGMAS.to(F32))
        m = ObjectRef("model")
        return [(p.probe("dsm_inplace", [Call(fn="dsm_loss", args=(m, x, sigmas, idx, noise))], objects=model),
                 {1: "x", 2: "sigmas", 3: "sigma_idx", 4: "noise"}),
                (p.probe("langevin_inplace", [Call(fn="langevin_step", args=(m, x, idx, 0.01, noise))], objects=model),
                 {1: "x", 2: "sigma_idx", 4: "noise"})]


CHECKS = [DsmValues(), DsmDifferentiable(), DsmOptimum(), LangevinValues(), LangevinMoments(), AnnealedStep(),
          Dtypes(), Unchanged()]
