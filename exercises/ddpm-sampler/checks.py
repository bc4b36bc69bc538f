"""Checks for the DDPM reverse process, DDIM steps and classifier-free guidance.

Expected values come from `reference_models.ddpm_sampler`, computed in float64 on exactly the
inputs the submission received (a float32 schedule is upcast as given). The noise predictor is
the public "conditioned" network of grader/harness/objects.py (an MLP on xt and the one-hot code
of t), built in the sandbox in xt's dtype and on the trusted side in float64 with the same weights.

Tolerances (contract §6-11): float64 data with a float64 schedule to rtol 1e-9; float32 data
to rtol 1e-4 / atol 1e-5, or rtol 1e-3 where a float64 schedule meets float32 data (casting
alpha_bar near 1 to float32, an error of 3e-8, moves 1 - alpha_bar by up to 3e-4 relative at
t = 0 of the linear schedule). Every bug below changes some value by more than 1e-2 relative.
The Bayes check derives the posterior independently, as the product of the Gaussian prior
q(x_{t-1} | x_0) = N(sqrt(abar_{t-1}) x_0, 1 - abar_{t-1}) and likelihood
q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t) (for t >= 1, where the prior is not a point).
Nothing here is fitted to the files in wrong/.
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
    ObjectRef,
    Planner,
    TensorValue,
    Tol,
    close,
    default_init,
    expect_tensor,
    expect_values,
)
from grader.harness.objects import network
from reference_models import ddpm as schedules
from reference_models import ddpm_sampler as ref

F32, F64 = torch.float32, torch.float64
HIDDEN = 16


def tolerance(data: torch.dtype, schedule: torch.dtype) -> Tol:
    if data == F64:
        return Tol(1e-9, 1e-12) if schedule == F64 else Tol(1e-6, 1e-9)  # a float32 schedule as given: exact in f64
    return Tol(1e-3, 1e-5) if schedule == F64 else Tol(1e-4, 1e-5)


def schedule(kind: str, T: int, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    betas = schedules.linear_beta_schedule(T) if kind == "linear" else schedules.cosine_beta_schedule(T)
    betas = betas.to(dtype)
    return betas, torch.cumprod(1 - betas, 0)  # in the schedule's own dtype, as the contract says


def timesteps(p: Planner, B: int, low: int, high: int) -> torch.Tensor:
    """(B,) int64 in [low, high], with both ends present."""
    t = torch.randint(low, high + 1, (B,), generator=p.generator)
    t[0], t[-1] = low, high
    return t


def model_spec(p: Planner, shape: tuple, T: int, dtype) -> dict:
    """A conditioned MLP for xt of this shape; PyTorch's default Linear init drawn from the planner."""
    d = math.prod(shape[1:])
    spec = {"type": "conditioned", "sizes": [d, HIDDEN, d], "n_index": T, "activation": "tanh",
            "dtype": str(dtype).removeprefix("torch.")}
    return {**spec, "state": default_init(p, network(spec), scale=3.0, dtype=dtype)}  # 3x: eps of order 1


def model64(spec: dict):
    net = network({**spec, "dtype": "float64"})
    net.load_state_dict({k: v.to(F64) for k, v in spec["state"].items()})
    return net


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


# ---------------------------------------------------------------------------------------------------------------
# bug simulators: the reference formula with one thing changed


def _abar_prev(abar: torch.Tensor, t: torch.Tensor, wrap: bool = False) -> torch.Tensor:
    if wrap:  # alphas_cumprod[t - 1] without the t == 0 case: Python's [-1] is the last step
        return abar[t - 1]
    return torch.where(t > 0, abar[(t - 1).clamp(min=0)], torch.ones((), dtype=abar.dtype))


def _posterior(x0, xt, t, betas, abar, *, prev=None, alpha=None, variance_beta=False, sqrt_prev=True):
    view = (-1,) + (1,) * (xt.dim() - 1)
    b, a = betas[t].view(view), abar[t].view(view)
    ap = (prev if prev is not None else _abar_prev(abar, t)).view(view)
    al = (1 - b) if alpha is None else alpha.view(view)
    mean = b * (ap.sqrt() if sqrt_prev else ap) / (1 - a) * x0 + (1 - ap) * al.sqrt() / (1 - a) * xt
    variance = b if variance_beta else b * (1 - ap) / (1 - a)
    return mean, variance.expand_as(xt)


POSTERIOR_BUGS = KnownBugs({
    "At t = 0 you used alphas_cumprod[t - 1] = alphas_cumprod[-1], the *last* step: alpha_bar_{-1} is 1 "
    "(e.g. `torch.where(t > 0, alphas_cumprod[(t - 1).clamp(min=0)], 1)`).":
        lambda x0, xt, t, b, a: _posterior(x0, xt, t, b, a, prev=_abar_prev(a, t, wrap=True)),
    "alpha_t in the coefficient of xt is 1 - beta_t, not alpha_bar_t.":
        lambda x0, xt, t, b, a: _posterior(x0, xt, t, b, a, alpha=a[t]),
    "You returned beta_t as the variance; the posterior variance is beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) "
    "(Ho et al. 2020, eq. 7: beta-tilde).":
        lambda x0, xt, t, b, a: _posterior(x0, xt, t, b, a, variance_beta=True),
    "You used alpha_bar_t where the formula has alpha_bar_{t-1} (or shifted alphas_cumprod the wrong way).":
        lambda x0, xt, t, b, a: _posterior(x0, xt, t, b, a, prev=a[t]),
    "The coefficient of x0 has sqrt(alpha_bar_{t-1}), not alpha_bar_{t-1}.":
        lambda x0, xt, t, b, a: _posterior(x0, xt, t, b, a, sqrt_prev=False),
})


def _p_sample_bug(model, xt, t, betas, abar, noise, *, noise_at_0=False, std=False, clip=False):
    eps = model(xt, t)
    x0 = ref.predict_x0_from_eps(xt, t, eps, abar)
    x0 = x0.clamp(-1, 1) if clip else x0
    mean, variance = ref.q_posterior_mean_variance(x0, xt, t.clamp(min=1) if noise_at_0 else t, betas, abar)
    if noise_at_0:  # improved-diffusion's clipped log-variance: t = 1's variance at t = 0
        mean = ref.q_posterior_mean_variance(x0, xt, t, betas, abar)[0]
    keep = torch.ones_like(xt) if noise_at_0 else (t != 0).to(xt.dtype).view((-1,) + (1,) * (xt.dim() - 1))
    return mean + keep * (variance if std else variance.sqrt()) * noise


P_SAMPLE_BUGS = KnownBugs({
    "Rows with t == 0 got noise (with t = 1's variance, as a clipped log-variance gives): they must get none, "
    "x_0 is the posterior mean there.": lambda *a: _p_sample_bug(*a, noise_at_0=True),
    "The noise is scaled by the standard deviation sqrt(variance), not by the variance.":
        lambda *a: _p_sample_bug(*a, std=True),
    "You clipped the predicted x0 to [-1, 1]; this exercise's p_sample does not clip.":
        lambda *a: _p_sample_bug(*a, clip=True),
})


def _x0_bug(xt, t, eps, abar, *, sqrt=True, one_minus=True):
    a = abar[t].view((-1,) + (1,) * (xt.dim() - 1))
    c = (1 - a) if one_minus else a
    return (xt - (c.sqrt() if sqrt else c) * eps) / (a.sqrt() if sqrt else a)


X0_BUGS = KnownBugs({
    "Both square roots are needed: x0 = (xt - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t).":
        lambda *a: _x0_bug(*a, sqrt=False),
    "eps is scaled by sqrt(1 - alpha_bar_t), not sqrt(alpha_bar_t).": lambda *a: _x0_bug(*a, one_minus=False),
})


def _ddim_bug(model, xt, t, t_prev, abar, eta=0.0, noise=None, *, subtract_sigma=False):
    eps = model(xt, t)
    view = (-1,) + (1,) * (xt.dim() - 1)
    x0 = ref.predict_x0_from_eps(xt, t, eps, abar)
    a = abar[t].view(view)
    ap = torch.where(t_prev >= 0, abar[t_prev.clamp(min=0)], 1.0).view(view)
    sigma = ref.ddim_sigma(a, ap, eta)
    s2 = sigma if subtract_sigma else sigma ** 2
    out = ap.sqrt() * x0 + (1 - ap - s2).clamp(min=0).sqrt() * eps
    return out if eta == 0 else out + sigma * noise


def _ddim_wrap(model, xt, t, t_prev, abar, eta=0.0, noise=None):
    """alphas_cumprod[t_prev] at t_prev == -1 is the last step."""
    view = (-1,) + (1,) * (xt.dim() - 1)
    eps = model(xt, t)
    x0 = ref.predict_x0_from_eps(xt, t, eps, abar)
    a, ap = abar[t].view(view), abar[t_prev].view(view)
    sigma = ref.ddim_sigma(a, ap, eta)
    out = ap.sqrt() * x0 + (1 - ap - sigma ** 2).clamp(min=0).sqrt() * eps
    return out if eta == 0 else out + sigma * noise


DDIM_BUGS = KnownBugs({
    "At t_prev == -1, alpha_bar_prev is 1 (the last step returns the predicted x0); alphas_cumprod[-1] is the "
    "last timestep's value.": _ddim_wrap,
    "The direction term is sqrt(1 - alpha_bar_prev - sigma^2) eps: you subtracted sigma, not sigma squared.":
        lambda *a, **k: _ddim_bug(*a, **k, subtract_sigma=True),
})


# ---------------------------------------------------------------------------------------------------------------


class Table(Differential):
    """Cases: (shape, data dtype, schedule kind, T, schedule dtype, extra). Model arguments are ObjectRefs;
    the reference and the bug simulators get the float64 network in their place."""

    keep_dtype = True
    dtype_hint = ("The result must have xt's dtype: cast what you gather from betas / alphas_cumprod to xt's dtype "
                  "(`.to(xt.dtype)`) before combining it with xt; the schedule may be float64 when xt is float32.")

    def tol(self, case):
        shape, data, kind, T, sched, *_ = case.case
        return tolerance(data, sched)

    def _args64(self, case):
        return [model64(case.objects[a.name]) if isinstance(a, ObjectRef) else a for a in case.args64()]

    def expected(self, case):
        return self.reference(*self._args64(case), **case.kwargs64())

    def known_bugs(self, case):
        return self.bugs(*self._args64(case), **case.kwargs64()) if self.bugs is not None else {}

    def what(self, call, case):
        shape, data, kind, T, sched, *_ = case.case
        t = next((a for a in case.args if isinstance(a, torch.Tensor) and a.dtype == torch.int64), None)
        return (f"{self.fn} on {_name(data)} data of shape {shape}, {kind} schedule (T = {T}, {_name(sched)})"
                + (f", t = {t.tolist()[:8]}" if isinstance(t, torch.Tensor) else ""))


class Posterior(Table):
    fn = "q_posterior_mean_variance"
    bugs = POSTERIOR_BUGS
    reference = staticmethod(ref.q_posterior_mean_variance)

    def inputs(self, p, case):
        shape, data, kind, T, sched, (low, high) = case
        betas, abar = schedule(kind, T, sched)
        t = timesteps(p, shape[0], low, high)
        return (p.randn(*shape, dtype=data), p.randn(*shape, dtype=data), p.add(t), p.add(betas), p.add(abar))

    def judge_case(self, call, case):
        value, what = call.value(), self.what(call, case)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise CheckFailure(f"{what}: expected a tuple (mean, variance).", got=type(value).__name__)
        expected, xt, tol = self.expected(case), case.args[1], self.tol(case)
        got = [v.data if isinstance(v, TensorValue) else None for v in value]
        bug = next(((h, b) for h, b in self.known_bugs(case).items()  # a bug that explains mean and variance
                    if all(g is not None and close(g, e, tol) for g, e in zip(got, b, strict=True))), None)
        for i, name in enumerate(("mean", "variance")):
            hint = ("The variance must have xt's full shape: `.expand_as(xt)` the (B, 1, ..., 1) coefficient."
                    if name == "variance" else None)
            expect_values(value[i], expected[i], what=f"{what}: the {name}", tol=tol, dtype=xt.dtype,
                          shape_hint=hint, dtype_hint=self.dtype_hint, known_bugs={bug[0]: bug[1][i]} if bug else {})


CASES_POSTERIOR = [((16, 6), F32, "linear", 1000, F32, (0, 999)),
                   ((8, 2, 4, 4), F64, "linear", 1000, F64, (0, 999)),
                   ((12, 3, 2, 2), F32, "cosine", 200, F64, (0, 198)),
                   ((1, 5), F64, "cosine", 200, F64, (0, 0))]


class PosteriorValues(Posterior):
    name = "posterior_values"
    title = ("q_posterior_mean_variance: the closed form of Ho et al. eq. 7 (t from 0 to T-1, float32/float64, "
             "2-D and 4-D data)")
    cases = CASES_POSTERIOR


def _bayes(x0, xt, t, betas, abar):
    """The product of two Gaussians in x_{t-1}: prior N(m0, v0) and likelihood N(xt; sqrt(alpha) x, beta)."""
    view = (-1,) + (1,) * (xt.dim() - 1)
    beta, prev = betas[t].view(view), abar[t - 1].view(view)  # t >= 1 here
    m0, v0, alpha = prev.sqrt() * x0, 1 - prev, 1 - beta
    precision = 1 / v0 + alpha / beta
    mean = (m0 / v0 + alpha.sqrt() * xt / beta) / precision
    return mean, (1 / precision).expand_as(xt)


class PosteriorBayes(Posterior):
    name = "posterior_bayes"
    title = ("q_posterior_mean_variance equals the Bayes posterior of the Gaussians q(x_{t-1} | x0) and "
             "q(x_t | x_{t-1}) (random betas, t >= 1)")
    reference = staticmethod(_bayes)

    def table(self, p):
        return [((10, 3), F64, "random", 40, F64, (1, 39)), ((6, 2, 3), F32, "random", 40, F32, (1, 39))]

    def inputs(self, p, case):
        shape, data, _, T, sched, (low, high) = case
        betas = (torch.rand(T, generator=p.generator, dtype=F64) * 0.2 + 0.01).to(sched)
        abar = torch.cumprod(1 - betas, 0)
        t = timesteps(p, shape[0], low, high)
        return (p.randn(*shape, dtype=data), p.randn(*shape, dtype=data), p.add(t), p.add(betas), p.add(abar))

    def tol(self, case):
        return Tol(1e-9, 1e-12) if case.case[1] == F64 else Tol(1e-4, 1e-5)


class PredictX0(Table):
    name, fn = "predict_x0", "predict_x0_from_eps"
    title = "predict_x0_from_eps: (xt - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t), not clipped"
    bugs = X0_BUGS
    reference = staticmethod(ref.predict_x0_from_eps)
    cases = [((16, 4), F32, "linear", 1000, F32), ((4, 3, 4, 4), F64, "linear", 1000, F64),
             ((8, 5), F32, "cosine", 200, F64)]

    def inputs(self, p, case):
        shape, data, kind, T, sched = case
        _, abar = schedule(kind, T, sched)
        t = timesteps(p, shape[0], 0, T - 2)
        return p.randn(*shape, dtype=data), p.add(t), p.randn(*shape, dtype=data), p.add(abar)


class PSample(Table):
    fn, bugs = "p_sample", P_SAMPLE_BUGS
    reference = staticmethod(ref.p_sample)

    def objects(self, p, case):
        shape, data, kind, T, sched, _ = case
        return {"model": model_spec(p, shape, T, data)}

    def inputs(self, p, case):
        shape, data, kind, T, sched, (low, high) = case
        betas, abar = schedule(kind, T, sched)
        t = timesteps(p, shape[0], low, high)
        return (ObjectRef("model"), p.randn(*shape, dtype=data), p.add(t), p.add(betas), p.add(abar),
                p.randn(*shape, dtype=data))


class PSampleValues(PSample):
    name = "p_sample_values"
    title = "p_sample: one ancestral step x_{t-1} = mean + sqrt(variance) noise with the model's eps (t >= 1)"
    cases = [((16, 6), F32, "linear", 1000, F32, (1, 999)), ((6, 2, 3, 3), F64, "linear", 1000, F64, (1, 999)),
             ((10, 4), F32, "cosine", 200, F64, (1, 198))]


class PSampleLastStep(PSample):
    name = "p_sample_t0"
    title = "p_sample adds no noise to the rows with t == 0 (batches mixing t = 0 with other steps)"

    def table(self, p):
        return [((8, 5), F32, "linear", 1000, F32, (0, 0)), ((6, 4), F64, "cosine", 200, F64, (0, 0))]

    def inputs(self, p, case):
        args = super().inputs(p, case)
        t = args[2].value
        t[1::2] = torch.randint(1, case[3] - 1, (len(t[1::2]),), generator=p.generator)  # every other row t > 0
        return args

    def judge_case(self, call, case):
        got = expect_tensor(call.value(), what=self.what(call, case), shape=tuple(case.args[1].shape))
        rows = case.args[2] == 0
        expected = self.expected(case)
        expect_values(type(call.value())(got[rows]), expected[rows], what=self.what(call, case) + ", rows with t = 0",
                      tol=self.tol(case), known_bugs={h: b[rows] for h, b in self.known_bugs(case).items()},
                      hint="At t == 0 the result is the posterior mean alone (no noise), which is the predicted x0: "
                           "alpha_bar_{-1} = 1 makes the variance and the coefficient of xt 0.")


class DDIM(Table):
    fn, bugs = "ddim_step", DDIM_BUGS
    reference = staticmethod(ref.ddim_step)

    def objects(self, p, case):
        shape, data, kind, T, sched, _ = case
        return {"model": model_spec(p, shape, T, data)}

    def inputs(self, p, case):
        shape, data, kind, T, sched, (eta, stride, with_noise) = case
        _, abar = schedule(kind, T, sched)
        t = timesteps(p, shape[0], stride - 1, T - 1)
        t_prev = t - stride
        t_prev[0] = -1
        args = [ObjectRef("model"), p.randn(*shape, dtype=data), p.add(t), p.add(t_prev), p.add(abar), eta]
        return (*args, p.randn(*shape, dtype=data)) if with_noise else tuple(args)

    def what(self, call, case):
        return super().what(call, case) + f", t_prev = t - {case.case[5][1]} (and -1), eta = {case.case[5][0]}"


class DDIMDeterministic(DDIM):
    name = "ddim_deterministic"
    title = ("ddim_step with eta = 0: deterministic, noise=None accepted and a given noise ignored "
             "(t_prev = t - k, and -1)")
    cases = [((12, 5), F32, "linear", 1000, F32, (0.0, 20, False)),
             ((4, 2, 3, 3), F64, "linear", 1000, F64, (0.0, 1, False)),
             ((10, 3), F32, "cosine", 200, F64, (0.0, 10, True))]


class DDIMEta(DDIM):
    name = "ddim_eta"
    title = "ddim_step with eta = 0.5 and 1: sigma = eta sqrt((1 - a') / (1 - a) (1 - a / a')) of Song et al. eq. 12"
    cases = [((12, 5), F32, "linear", 1000, F32, (1.0, 50, True)),
             ((6, 4), F64, "cosine", 200, F64, (0.5, 5, True)),
             ((8, 2, 2, 2), F64, "linear", 1000, F64, (1.0, 100, True))]


def _ddpm_from_ddim(model, xt, t, t_prev, abar, eta, noise):
    betas = torch.cat([1 - abar[:1], 1 - abar[1:] / abar[:-1]])
    return ref.p_sample(model, xt, t, betas, abar, noise)


class DDIMMatchesDDPM(DDIM):
    name = "ddim_eta1_is_ddpm"
    title = "ddim_step with eta = 1 and t_prev = t - 1 is the DDPM ancestral step (sigma^2 = posterior variance)"
    reference = staticmethod(_ddpm_from_ddim)
    cases = [((12, 5), F64, "linear", 1000, F64, (1.0, 1, True))]

    def tol(self, case):
        return Tol(1e-7, 1e-9)  # the two formulas agree to rounding; 1 - abar_t / abar_{t-1} is beta_t to ~1e-13


class Guidance(Differential):
    name, fn = "guidance", "classifier_free_guidance"
    title = "classifier_free_guidance at scales 0, 1, 3 and 7.5: eps_uncond + s (eps_cond - eps_uncond)"
    reference = staticmethod(ref.classifier_free_guidance)
    tolerances = {F32: Tol(1e-5, 1e-5), F64: Tol(1e-9, 1e-12)}
    cases = [((8, 3), F32, 0.0), ((8, 3), F32, 1.0), ((4, 2, 3, 3), F64, 3.0), ((5, 4), F32, 7.5),
             ((3, 3), F64, 0.0), ((3, 3), F64, 1.0)]
    bugs = KnownBugs({
        "You used eps_cond + w (eps_cond - eps_uncond), the w of Ho & Salimans; here guidance_scale = 1 + w: "
        "eps_uncond + guidance_scale * (eps_cond - eps_uncond).": lambda c, u, s: c + s * (c - u),
        "eps_cond and eps_uncond are swapped: guidance_scale = 1 must give eps_cond.": lambda c, u, s: c + s * (u - c),
    })

    def inputs(self, p, case):
        shape, dtype, scale = case
        return p.randn(*shape, dtype=dtype), p.randn(*shape, dtype=dtype), scale

    def what(self, call, case):
        shape, dtype, scale = case.case
        return f"classifier_free_guidance({_name(dtype)} {shape}, guidance_scale={scale})"


class Dtypes(Table):
    """Each function keeps xt's dtype for every combination of data and schedule dtypes."""

    name = "dtypes"
    title = "every function returns xt's dtype and shape for float32/float64 xt with float64/float32 schedules"

    def table(self, p):
        return [(fn, data, sched) for fn in ("q_posterior_mean_variance", "predict_x0_from_eps", "p_sample",
                                             "ddim_step") for data, sched in [(F32, F64), (F64, F32)]]

    def function(self, case):
        return case[0]

    def objects(self, p, case):
        return {"model": model_spec(p, (6, 4), 100, case[1])} if case[0] in ("p_sample", "ddim_step") else {}

    def inputs(self, p, case):
        fn, data, sched = case
        betas, abar = schedule("linear", 100, sched)
        t = p.add(timesteps(p, 6, 1, 99))
        x, noise = p.randn(6, 4, dtype=data), p.randn(6, 4, dtype=data)
        return {"q_posterior_mean_variance": (x, noise, t, p.add(betas), p.add(abar)),
                "predict_x0_from_eps": (x, t, noise, p.add(abar)),
                "p_sample": (ObjectRef("model"), x, t, p.add(betas), p.add(abar), noise),
                "ddim_step": (ObjectRef("model"), x, t, p.add(t.value - 1), p.add(abar), 1.0, noise)}[fn]

    def judge_case(self, call, case):
        fn, data, sched = case.case
        what = f"`{fn}` on {_name(data)} data with a {_name(sched)} schedule"
        value = call.value()
        for v in value if isinstance(value, (tuple, list)) else [value]:
            expect_tensor(v, what=what, shape=(6, 4), dtype=data, dtype_hint=(
                f"The result must have xt's dtype ({data}); the schedule is {sched} here. Cast what you gather from "
                "betas / alphas_cumprod to xt's dtype (`.to(xt.dtype)`) before combining it with xt."))


class Unchanged(InputsUnchanged):
    title = "no function modifies its input tensors in place"

    def probes(self, p):
        betas, abar = schedule("linear", 100, F32)
        betas, abar = p.add(betas), p.add(abar)
        t = p.add(timesteps(p, 6, 0, 99))
        t_prev = p.add(t.value - 1)
        x, noise, eps = p.randn(6, 4), p.randn(6, 4), p.randn(6, 4)
        model = {"model": model_spec(p, (6, 4), 100, F32)}
        m = ObjectRef("model")
        return [
            (p.call("post_inplace", "q_posterior_mean_variance", x, noise, t, betas, abar),
             ("x0", "xt", "t", "betas", "alphas_cumprod")),
            (p.call("x0_inplace", "predict_x0_from_eps", x, t, eps, abar), ("xt", "t", "eps", "alphas_cumprod")),
            (p.probe("p_inplace", [_call("p_sample", m, x, t, betas, abar, noise)], objects=model),
             {1: "xt", 2: "t", 3: "betas", 4: "alphas_cumprod", 5: "noise"}),
            (p.probe("ddim_inplace", [_call("ddim_step", m, x, t, t_prev, abar, 1.0, noise)], objects=model),
             {1: "xt", 2: "t", 3: "t_prev", 4: "alphas_cumprod", 6: "noise"}),
            (p.call("cfg_inplace", "classifier_free_guidance", x, eps, 2.0), ("eps_cond", "eps_uncond")),
        ]


def _call(fn, *args):
    return Call(fn=fn, args=args)

CHECKS = [PosteriorValues(), PosteriorBayes(), PredictX0(), PSampleValues(), PSampleLastStep(), DDIMDeterministic(),
          DDIMEta(), DDIMMatchesDDPM(), Guidance(), Dtypes(), Unchanged()]
