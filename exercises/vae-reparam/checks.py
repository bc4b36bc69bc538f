"""Checks for `reparameterize(mu, logvar)`.

Statistical checks use n = 20,000 x 8 draws from fixed (mu, logvar) rows. Each
check's false-failure probability for a correct implementation is at most
1e-6: its bound is Bonferroni-corrected over the statistics it tests (normal
approximation for means and correlations, whose n is large; DKW inequality
for the distribution of the noise, which holds for every n).
"""
from __future__ import annotations

import math

import torch

from grader.checks import (
    Call,
    Case,
    Check,
    CheckFailure,
    InputsUnchanged,
    Planner,
    Returns,
    Run,
    Tol,
    correlation,
    correlation_bound,
    expect_gradients,
    expect_tensor,
    ks_distance,
    ks_test,
    mean_test,
    variance_test,
)

P_FALSE_FAILURE = 1e-6
N, D = 20_000, 8
FN = "reparameterize"


def _sample_plan(p: Planner) -> dict:
    return p.shared("samples", _plan_samples)


def _plan_samples(p: Planner) -> dict:
    """One shared probe: rows of identical (mu, logvar), two calls without reseeding in between."""
    mu_row = torch.linspace(-3.0, 3.0, D, dtype=torch.float64)
    logvar_row = torch.linspace(-4.0, 2.0, D, dtype=torch.float64).flip(0)
    mu = p.add(mu_row.expand(N, D).to(torch.float32))
    logvar = p.add(logvar_row.expand(N, D).to(torch.float32))
    p.probe("samples", [Call(fn=FN, args=(mu, logvar), seed=p.next_seed(), repeat=2)])
    return {"mu": mu.value.double(), "std": (0.5 * logvar.value.double()).exp()}


def _samples(run: Run, planned: dict) -> tuple[torch.Tensor, torch.Tensor]:
    call = run.call("samples")
    values = call.values()
    if len(values) != 2:
        raise CheckFailure(f"`{call.description}` did not return a value for each call.")
    z1, z2 = (expect_tensor(v, what=f"`{call.description}`", shape=(N, D), dtype=torch.float32) for v in values)
    return z1.double(), z2.double()


def _noise(z: torch.Tensor, planned: dict) -> torch.Tensor:
    return (z - planned["mu"]) / planned["std"]


class ShapeAndDtype(Returns):
    name, fn, seeded = "shape_and_dtype", FN, True
    title = "Returns a tensor of mu's shape and dtype (float32 and float64, 1-3 dimensions)"
    cases = [Case((5,)), Case((4, 3)), Case((2, 3, 4)), Case((6, 2), torch.float64)]

    def inputs(self, p, case):
        return p.randn(*case.shape, dtype=case.dtype), p.randn(*case.shape, dtype=case.dtype)

    def shape(self, case):
        return case.case.shape


class Mean(Check):
    name = "mean"
    title = "The samples' mean is mu (per element, over 20,000 draws)"

    def plan(self, p):
        return _sample_plan(p)

    def judge(self, run, planned):
        z, _ = _samples(run, planned)
        mu, std = planned["mu"][0], planned["std"][0]
        test = mean_test(z, mu, std, P_FALSE_FAILURE)
        if test.failed:
            worst, mean = test.index, z.mean(0)[test.index]
            raise CheckFailure(
                f"Sample mean of z in column {worst} over {N:,} draws with mu = {mu[worst]:.3g}, "
                f"logvar = {2 * std[worst].log():.3g} is off by {(mean - mu[worst]) / std[worst] * N ** 0.5:.1f} "
                "standard errors.",
                expected=f"{mu[worst]:.4f} ± {test.bound * std[worst] / math.sqrt(N):.4f}", got=f"{mean:.4f}",
                hint="z must be mu plus zero-mean noise: use standard normal noise (`torch.randn_like`), "
                     "not uniform noise (`torch.rand_like`), and add mu exactly once.")


class StandardDeviation(Check):
    name = "standard_deviation"
    title = "The samples' standard deviation is exp(logvar / 2)"

    def plan(self, p):
        return _sample_plan(p)

    def judge(self, run, planned):
        z, _ = _samples(run, planned)
        std = planned["std"][0]
        got = z.std(0)
        test = variance_test(z, std, P_FALSE_FAILURE)
        if test.failed:
            worst, bound = test.index, test.bound
            lv = 2 * std[worst].log()
            hint = "The standard deviation is exp(0.5 * logvar): logvar is the log of the variance."
            if abs(got[worst] - (2 * lv).exp().sqrt()) < 0.05 * got[worst] + 1e-12:
                hint = "You used exp(logvar) (the variance) as the standard deviation; use exp(0.5 * logvar)."
            elif abs(got[worst] - lv.abs()) < 0.05 * got[worst] + 1e-12:
                hint = "You multiplied the noise by logvar itself; the standard deviation is exp(0.5 * logvar)."
            raise CheckFailure(
                f"Sample standard deviation of z in column {worst} (logvar = {lv:.3g}) over {N:,} draws.",
                expected=f"{std[worst]:.4f} (variance within ±{100 * bound:.1f}%)", got=f"{got[worst]:.4f}", hint=hint)


class GaussianNoise(Check):
    name = "gaussian_noise"
    title = "The noise (z - mu) / std is standard normal (Kolmogorov-Smirnov distance, DKW bound)"

    def plan(self, p):
        return _sample_plan(p)

    def judge(self, run, planned):
        z, _ = _samples(run, planned)
        columns = _noise(z, planned)  # (N, D)
        eps = columns.reshape(-1)
        n = eps.numel()
        test = ks_test(eps, P_FALSE_FAILURE)
        distance, bound = test.statistic, test.bound
        if test.failed:
            spread = eps.std().item()
            # Gaussian but mis-scaled noise becomes N(0, 1) once each column is standardised by its own moments.
            standardised = (columns - columns.mean(0)) / columns.std(0)
            if bool(torch.isfinite(standardised).all()) and ks_distance(standardised) <= 2 * bound:
                hint = (f"The standardised noise has standard deviation {spread:.3g}, not 1: the noise is scaled "
                        "wrongly (the standard deviation is exp(0.5 * logvar)); see the standard_deviation check.")
            else:
                hint = "Draw eps with `torch.randn_like(mu)` (standard normal), not `torch.rand_like` (uniform)."
            raise CheckFailure(
                f"The standardised noise (z - mu) / exp(logvar / 2) of {n:,} draws is not N(0, 1): "
                f"its Kolmogorov-Smirnov distance to the normal CDF is {distance:.4f}.",
                expected=f"at most {bound:.4f}", got=f"{distance:.4f}", hint=hint)


class IndependentElements(Check):
    name = "independent_elements"
    title = "Noise is independent across batch rows and across dimensions"

    def plan(self, p):
        return _sample_plan(p)

    def judge(self, run, planned):
        z, _ = _samples(run, planned)
        eps = _noise(z, planned)
        pairs = {"neighbouring batch rows": (eps[:-1], eps[1:]), "neighbouring dimensions": (eps[:, :-1], eps[:, 1:])}
        for what, (a, b) in pairs.items():
            r, bound = correlation(a, b), correlation_bound(a.numel(), P_FALSE_FAILURE / 2)
            if not abs(r) <= bound:
                raise CheckFailure(
                    f"The noise of {what} is correlated (correlation {r:.3f} over {a.numel():,} pairs).",
                    expected=f"|correlation| ≤ {bound:.4f}", got=f"{r:.4f}",
                    hint="Draw one independent noise value per element: `torch.randn_like(mu)`, not "
                         "`torch.randn(mu.shape[-1])` or `torch.randn(batch, 1)` broadcast over the batch.")


class FreshNoiseEachCall(Check):
    name = "fresh_noise_each_call"
    title = "Two consecutive calls draw different, independent noise (no reseeding)"

    def plan(self, p):
        return _sample_plan(p)

    def judge(self, run, planned):
        z1, z2 = _samples(run, planned)
        r = correlation(_noise(z1, planned), _noise(z2, planned))
        if torch.equal(z1, z2) or not abs(r) <= correlation_bound(z1.numel(), P_FALSE_FAILURE):
            raise CheckFailure(
                "Two consecutive calls with the same mu and logvar returned "
                + ("identical samples." if torch.equal(z1, z2) else f"correlated samples (correlation {r:.3f})."),
                hint="Do not call `torch.manual_seed` or create a seeded `torch.Generator` inside your function: "
                     "draw from torch's global generator so each call gets fresh noise.")


class Reproducible(Check):
    """The contract: noise comes from torch's global generator, which the function never reseeds. So the
    same torch.manual_seed gives the same samples, another seed other samples, and after the call the
    generator's state depends on the seed. Exact comparisons: no statistics, no false failures."""

    name = "reproducible"
    title = ("Reproducible under torch.manual_seed: the same seed gives the same samples, another seed others; "
             "the global generator is not reseeded")

    def plan(self, p: Planner):
        mu, logvar = p.randn(64, 8), p.uniform(64, 8, low=-2.0, high=1.0)
        seed, other = p.next_seed(), p.next_seed()
        calls = [Call(fn=FN, args=(mu, logvar), seed=s, draw_after=16) for s in (seed, seed, other)]
        return {"probe": p.probe("reproducible", calls), "seeds": (seed, other)}

    def judge(self, run: Run, planned):
        seed, other = planned["seeds"]
        calls = [run.call(planned["probe"], i) for i in range(3)]
        first, again, elsewhere = (expect_tensor(c.value(), what=f"`{c.description}`", shape=(64, 8)) for c in calls)
        if not torch.equal(first, again):
            raise CheckFailure(
                f"Two calls, each right after `torch.manual_seed({seed})`, returned different samples: your noise "
                "does not come from torch's global generator.",
                hint="Draw eps with `torch.randn_like(mu)` (or `torch.randn(..., device=mu.device)`): not from a "
                     "`torch.Generator` of your own, numpy or Python's `random`, and without reseeding from the clock.")
        if torch.equal(first, elsewhere):
            raise CheckFailure(
                f"`torch.manual_seed({seed})` and `torch.manual_seed({other})` gave the same samples: your noise does "
                "not depend on torch's global generator (a generator with a fixed seed?).",
                hint="Draw eps from torch's global generator: `torch.randn_like(mu)`.")
        if torch.equal(calls[0].drawn_after(), calls[2].drawn_after()):
            raise CheckFailure(
                "After your function returns, torch's global generator gives the same numbers whatever seed was set "
                "before the call: your function reseeds the global generator.",
                hint="Do not call `torch.manual_seed` (or `torch.random.set_rng_state`) inside your function: the "
                     "caller's seed must keep governing everything drawn after it.")


class Gradients(Check):
    name = "gradients"
    title = "Gradients flow to mu and logvar with the right values (dz/dmu = 1, dz/dlogvar = (z - mu) / 2)"

    def plan(self, p):
        mu, logvar = p.randn(64, 5), p.uniform(64, 5, low=-3.0, high=1.5)
        upstream = p.randn(64, 5)
        p.probe("gradients", [Call(fn=FN, args=(mu, logvar), seed=p.next_seed(), grad_wrt=(0, 1), upstream=upstream)])
        return {"mu": mu.value.double(), "g": upstream.value.double()}

    def judge(self, run, planned):
        call = run.call("gradients")
        z = expect_tensor(call.value(), what=f"`{call.description}`", shape=(64, 5)).double()
        g = planned["g"]
        expected = {0: g, 1: g * 0.5 * (z - planned["mu"])}
        hints = {0: "z must depend on mu as z = mu + ...; do not detach mu or sample with `torch.normal`.",
                 1: "Sample eps without gradient and compute z = mu + exp(0.5 * logvar) * eps; `torch.normal(...)` "
                    "and `Normal(...).sample()` do not pass gradients, `.rsample()` does."}
        bugs = {"The gradient with respect to logvar is twice the expected one: z uses exp(logvar) (the variance) "
                "where the standard deviation exp(0.5 * logvar) belongs.": [g, 2 * expected[1]]}
        expect_gradients(call, expected, names={0: "mu", 1: "logvar"}, tol=Tol(1e-4, 1e-5),
                         what="d(sum(g * z))/d{name}",
                         hint=hints, missing_hint=hints, known_bugs=bugs)


class Unchanged(InputsUnchanged):
    title = "Does not modify mu or logvar in place"

    def probes(self, p):
        mu, logvar = p.randn(16, 4), p.randn(16, 4)
        return [(p.probe("inplace", [Call(fn=FN, args=(mu, logvar), seed=p.next_seed())]), ("mu", "logvar"))]


CHECKS = [ShapeAndDtype(), Mean(), StandardDeviation(), GaussianNoise(), IndependentElements(),
          FreshNoiseEachCall(), Reproducible(), Gradients(), Unchanged()]
