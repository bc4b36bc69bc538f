"""Checks for `gaussian_kl(mu, logvar)` and `negative_elbo(x, recon_logits, mu, logvar)`.

Every expected value is the reference (`reference_models.vae`) evaluated in
float64 on the very float32 inputs the submission received, so the only
difference a correct submission can show is its own float32 rounding.

Tolerances (all float32 submissions):
- the KL of one row is a sum of D non-negative terms 0.5 * (mu^2 + e^lv - 1 - lv);
  float32 rounding gives a relative error of a few 1e-7 per term, plus an
  absolute error of ~1e-7 per term where e^lv - 1 - lv cancels (lv near 0), or
  where a `torch.distributions` entropy / log_prob formulation cancels its
  log(2 pi) constants. rtol 1e-4, atol 1e-4 covers that with two orders of
  magnitude to spare for D <= 32, and is far below any real bug (wrong sign,
  missing 1/2, ... change a row by O(1)).
- the negative ELBO sums up to 784 BCE terms (values ~1e2..1e4); pairwise or
  even sequential float32 summation stays below 784 * 6e-8 = 5e-5 relative in the
  worst case. rtol 1e-4 (atol 1e-3 for values near 0).
- gradients are elementwise: (sigmoid(l) - x) / B, mu / B, (e^lv - 1) / (2B),
  each computed to a few float32 ulps of its terms (<= 1e-7 absolute), so
  rtol 1e-4, atol 1e-6.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import (Call, Check, CheckFailure, Planner, Run, expect_close, expect_scalar_tensor,
                           expect_tensor, expect_unmutated, show_tensor)
from reference_models.vae import gaussian_kl as reference_kl
from reference_models.vae import negative_elbo as reference_elbo

KL, ELBO = "gaussian_kl", "negative_elbo"
KL_RTOL, KL_ATOL = 1e-4, 1e-4
ELBO_RTOL, ELBO_ATOL = 1e-4, 1e-3
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6


# ---------------------------------------------------------------------------------------------
# inputs (drawn from the grading's seeded generator)

def _uniform(p: Planner, *shape: int, low: float, high: float) -> torch.Tensor:
    return torch.rand(*shape, generator=p.generator, dtype=torch.float64) * (high - low) + low


def _targets(p: Planner, *shape: int) -> torch.Tensor:
    """x in [0, 1]: continuous values, with about 10% exact 0s and 10% exact 1s."""
    x = _uniform(p, *shape, low=0.0, high=1.0)
    u = _uniform(p, *shape, low=0.0, high=1.0)
    return torch.where(u < 0.1, 0.0, torch.where(u > 0.9, 1.0, x))


def _plan_elbo_inputs(p: Planner, x_shape: tuple, latent: int, *, logit_range: float = 6.0,
                      dtype=torch.float32) -> tuple:
    b = x_shape[0]
    x = p.add(_targets(p, *x_shape).to(dtype))
    logits = p.add(_uniform(p, *x_shape, low=-logit_range, high=logit_range).to(dtype))
    mu = p.randn(b, latent, dtype=dtype)
    logvar = p.add(_uniform(p, b, latent, low=-3.0, high=2.0).to(dtype))
    return x, logits, mu, logvar


def _f64(*refs) -> list[torch.Tensor]:
    return [r.value.to(torch.float64) for r in refs]


# ---------------------------------------------------------------------------------------------
# what typical bugs return (float64), so a failure can name the bug

def _kl_bugs(mu: torch.Tensor, lv: torch.Tensor) -> dict[str, torch.Tensor]:
    kl = reference_kl(mu, lv)
    d = mu.shape[-1]
    return {
        "Your KL has the wrong sign: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) is never negative.":
            -kl,
        "Your KL is twice the expected value: you are missing the factor 1/2.": 2 * kl,
        "Your KL looks like the *mean* over the latent dimensions; the KL of a row is the *sum* over them.":
            kl / d,
        "You used exp(logvar) as the standard deviation: logvar is the log of the variance, so the variance "
        "is exp(logvar) and the standard deviation exp(logvar / 2).":
            0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1),
        "You used exp(logvar / 2) (the standard deviation) where the variance exp(logvar) belongs.":
            0.5 * (mu.pow(2) + (0.5 * lv).exp() - 1 - lv).sum(-1),
        "You left out the constant -1 in each term of the KL.": kl + d / 2,
        "You left out the mu^2 term of the KL.": 0.5 * (lv.exp() - 1 - lv).sum(-1),
    }


def _bce(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)  # (B, pixels)


def _elbo_bugs(x, logits, mu, lv) -> dict[str, torch.Tensor]:
    """Each value is differentiable, so the gradient check can name the same bugs."""
    bce, kl = _bce(x, logits), reference_kl(mu, lv)
    recon = bce.sum(1)
    return {
        "Average over the batch, not sum: the loss is the *mean* of the per-sample negative ELBO.":
            (recon + kl).sum(),
        "Sum the binary cross-entropy over all pixels of a sample (not the mean), then average over the batch.":
            (bce.mean(1) + kl).mean(),
        "`F.binary_cross_entropy_with_logits(...)` averages over every element by default: sum over the "
        "pixels of each sample (reduction='none' then .flatten(1).sum(1), or reduction='sum' / batch size).":
            bce.mean() + kl.mean(),
        "You returned the ELBO; the function returns its negative (BCE + KL, a loss to minimise).":
            -(recon + kl).mean(),
        "Your KL term has the wrong sign: the negative ELBO is reconstruction BCE *plus* the KL.":
            (recon - kl).mean(),
        "Your KL term is twice too large: you are missing the factor 1/2 in the KL.": (recon + 2 * kl).mean(),
        "The KL term is missing: the negative ELBO is the reconstruction BCE plus the KL of each sample.":
            recon.mean(),
        "Your BCE has the wrong sign: BCE = -(x log p + (1 - x) log(1 - p)) is never negative.":
            (-recon + kl).mean(),
        "`recon_logits` are logits already: do not apply `sigmoid` before `binary_cross_entropy_with_logits`.":
            (_bce(x, torch.sigmoid(logits)).sum(1) + kl).mean(),
        "Your KL looks like the mean over the latent dimensions; the KL of a sample is the sum over them.":
            (recon + kl / mu.shape[-1]).mean(),
        "You used exp(logvar) as the standard deviation in the KL; the variance is exp(logvar).":
            (recon + 0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1)).mean(),
        "You used exp(logvar / 2) (the standard deviation) where the variance exp(logvar) belongs in the KL.":
            (recon + 0.5 * (mu.pow(2) + (0.5 * lv).exp() - 1 - lv).sum(-1)).mean(),
    }


# ---------------------------------------------------------------------------------------------
# gaussian_kl

KL_CASES = [  # (B, D, mu std, logvar range)
    (1, 1, 1.0, 2.0),
    (7, 3, 1.0, 3.0),
    (64, 32, 1.5, 4.0),
    (16, 8, 30.0, 10.0),  # large |mu| and logvar in [-10, 10]
]


class KlValues(Check):
    name = "kl_values"
    title = "gaussian_kl matches the closed-form KL (B x D = 1x1, 7x3, 64x32; large |mu|, logvar in [-10, 10])"

    def plan(self, p: Planner):
        cases = []
        for i, (b, d, mu_std, lv_range) in enumerate(KL_CASES):
            mu = p.randn(b, d, std=mu_std)
            lv = p.add(_uniform(p, b, d, low=-lv_range, high=lv_range).to(torch.float32))
            cases.append((p.probe(f"kl{i}", [Call(fn=KL, args=(mu, lv))]), mu, lv))
        return cases

    def judge(self, run: Run, cases):
        for probe_id, mu, lv in cases:
            call = run.call(probe_id)
            b = mu.value.shape[0]
            got = expect_tensor(call.value(), what=f"`{call.description}`", shape=(b,))
            mu64, lv64 = _f64(mu, lv)
            expect_close(got, reference_kl(mu64, lv64), what=f"`{call.description}`", rtol=KL_RTOL, atol=KL_ATOL,
                         known_bugs=_kl_bugs(mu64, lv64),
                         hint="KL(N(mu, exp(logvar)) || N(0, 1)) = 1/2 * sum over the last dimension of "
                              "(mu^2 + exp(logvar) - 1 - logvar).")


class KlShapeAndDtype(Check):
    name = "kl_shape_and_dtype"
    title = "gaussian_kl returns shape (B,) with the inputs' dtype (float32 and float64, B = 1 included)"

    CASES = [((1, 1), torch.float32), ((5, 4), torch.float32), ((1, 6), torch.float64), ((6, 3), torch.float64)]

    def plan(self, p: Planner):
        cases = []
        for i, (shape, dtype) in enumerate(self.CASES):
            mu, lv = p.randn(*shape, dtype=dtype), p.randn(*shape, dtype=dtype)
            cases.append((p.probe(f"kl_shape{i}", [Call(fn=KL, args=(mu, lv))]), shape[0], dtype))
        return cases

    def judge(self, run: Run, cases):
        for probe_id, b, dtype in cases:
            call = run.call(probe_id)
            expect_tensor(call.value(), what=f"`{call.description}`", shape=(b,), dtype=dtype)


# ---------------------------------------------------------------------------------------------
# negative_elbo

ELBO_CASES = [  # (x shape, latent dimension)
    ((8, 784), 16),
    ((5, 1, 28, 28), 10),
    ((6, 3, 4, 5), 2),
    ((1, 784), 1),
]


def _expect_loss(call, what: str, dtype=None) -> torch.Tensor:
    return expect_scalar_tensor(call.value(), what=what, dtype=dtype)


class ElboValues(Check):
    name = "elbo_values"
    title = ("negative_elbo matches the reference for x of shape (B, 784), (B, 1, 28, 28), (B, 3, 4, 5) "
             "with x anywhere in [0, 1]")

    def plan(self, p: Planner):
        cases = []
        for i, (shape, latent) in enumerate(ELBO_CASES):
            refs = _plan_elbo_inputs(p, shape, latent)
            cases.append((p.probe(f"elbo{i}", [Call(fn=ELBO, args=refs)]), refs))
        return cases

    def judge(self, run: Run, cases):
        for probe_id, refs in cases:
            call = run.call(probe_id)
            what = f"`{call.description}`"
            got = _expect_loss(call, what)
            x, logits, mu, lv = _f64(*refs)
            expect_close(got, reference_elbo(x, logits, mu, lv), what=what, rtol=ELBO_RTOL, atol=ELBO_ATOL,
                         known_bugs=_elbo_bugs(x, logits, mu, lv),
                         hint="Per sample: BCE of the logits against x summed over every non-batch dimension, "
                              "plus gaussian_kl(mu, logvar); then the mean over the batch.")


class ElboScalarAndDtype(Check):
    name = "elbo_scalar_and_dtype"
    title = "negative_elbo returns a 0-dim tensor with the inputs' dtype (float32 and float64, B = 1 included)"

    CASES = [((4, 784), 8, torch.float32), ((1, 3, 4, 5), 2, torch.float32), ((3, 1, 28, 28), 4, torch.float64)]

    def plan(self, p: Planner):
        cases = []
        for i, (shape, latent, dtype) in enumerate(self.CASES):
            refs = _plan_elbo_inputs(p, shape, latent, dtype=dtype)
            cases.append((p.probe(f"elbo_scalar{i}", [Call(fn=ELBO, args=refs)]), dtype))
        return cases

    def judge(self, run: Run, cases):
        for probe_id, dtype in cases:
            call = run.call(probe_id)
            _expect_loss(call, f"`{call.description}`", dtype=dtype)


class ElboStability(Check):
    name = "elbo_stability"
    title = "negative_elbo is finite and exact (relative 1e-4) for logits in [-50, 50], including exactly ±50"

    HINT = ("Compute the BCE from the logits, not from sigmoid probabilities: with l = recon_logits, "
            "BCE = softplus(l) - x * l = max(l, 0) - x * l + log1p(exp(-|l|)), or use "
            "`F.binary_cross_entropy_with_logits`. In float32, sigmoid(50) is exactly 1.0, so log(1 - p) is "
            "-inf (and `F.binary_cross_entropy` clamps it to -100, which is finite but wrong).")

    def plan(self, p: Planner):
        shape, latent = (4, 784), 8
        x = _targets(p, *shape)
        logits = _uniform(p, *shape, low=-50.0, high=50.0)
        u = _uniform(p, *shape, low=0.0, high=1.0)
        logits = torch.where(u < 0.1, -50.0, torch.where(u > 0.9, 50.0, logits))
        x[0] = (logits[0] > 0).to(x.dtype)  # sample 0: confident and right, its BCE is ~0
        refs = (p.add(x.float()), p.add(logits.float()), p.randn(shape[0], latent),
                p.add(_uniform(p, shape[0], latent, low=-3.0, high=2.0).float()))
        return p.probe("stability", [Call(fn=ELBO, args=refs)]), refs

    def judge(self, run: Run, planned):
        probe_id, refs = planned
        call = run.call(probe_id)
        what = f"`{call.description}` with logits in [-50, 50]"
        got = expect_tensor(call.value(), what=what, finite=False)
        if got.dim() != 0:
            raise CheckFailure(f"{what}: expected a 0-dim tensor (a single number).", got=f"shape {tuple(got.shape)}",
                               hint="Reduce with `.mean()` / `.sum()` so the loss is a single number.")
        if not bool(torch.isfinite(got)):
            raise CheckFailure(f"{what}: the loss is not finite.", got=show_tensor(got), hint=self.HINT)
        x, logits, mu, lv = _f64(*refs)
        x32, logits32 = refs[0].value, refs[1].value
        clamped = F.binary_cross_entropy(torch.sigmoid(logits32), x32, reduction="none").double().flatten(1).sum(1)
        bugs = {self.HINT: (clamped + reference_kl(mu, lv)).mean(), **_elbo_bugs(x, logits, mu, lv)}
        expect_close(got, reference_elbo(x, logits, mu, lv), what=what, rtol=ELBO_RTOL, atol=ELBO_ATOL,
                     known_bugs=bugs, hint=self.HINT)


class ElboGradients(Check):
    name = "elbo_gradients"
    title = "Gradients of negative_elbo with respect to recon_logits, mu and logvar match the reference"

    def plan(self, p: Planner):
        refs = _plan_elbo_inputs(p, (6, 784), 5)
        return p.probe("gradients", [Call(fn=ELBO, args=refs, grad_wrt=(1, 2, 3))]), refs

    def judge(self, run: Run, planned):
        probe_id, refs = planned
        call = run.call(probe_id)
        expect_scalar_tensor(call.value(), what=f"`{call.description}`")
        names = {1: "recon_logits", 2: "mu", 3: "logvar"}
        got = []
        for key, name in names.items():
            grad = call.grad(key)
            if grad is None:
                raise CheckFailure(
                    f"No gradient reached `{name}` through `{call.description}`.",
                    hint="The loss is used for training: do not `.detach()` it, compute it under "
                         "`torch.no_grad()`, or rebuild it from Python numbers (`.item()`, `torch.tensor(...)`).")
            got.append(grad)
        x, *leaves = _f64(*refs)
        leaves = [t.requires_grad_(True) for t in leaves]
        expected = torch.autograd.grad(reference_elbo(x, *leaves), leaves)
        # name a bug only if it explains all three gradients (several bugs share one of them)
        hint = ("Check the terms of the loss that depend on this argument; the expected gradient is the "
                "reference loss's autograd gradient on the same inputs.")
        for bug_hint, value in _elbo_bugs(x, *leaves).items():
            bug_grads = torch.autograd.grad(value, leaves, retain_graph=True, materialize_grads=True)
            if all(_close(g, b, GRAD_RTOL, GRAD_ATOL) for g, b in zip(got, bug_grads)):
                hint = bug_hint
                break
        for g, e, name in zip(got, expected, names.values()):
            expect_close(g, e, what=f"d(negative_elbo)/d{name}", rtol=GRAD_RTOL, atol=GRAD_ATOL, hint=hint)


def _close(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> bool:
    got, expected = got.detach().double(), expected.detach().double()
    return got.shape == expected.shape and bool(((got - expected).abs() <= atol + rtol * expected.abs()).all())


# ---------------------------------------------------------------------------------------------

class InputsUnchanged(Check):
    name = "inputs_unchanged"
    title = "Neither function modifies its input tensors in place"

    def plan(self, p: Planner):
        mu, lv = p.randn(8, 4), p.randn(8, 4)
        refs = _plan_elbo_inputs(p, (4, 1, 28, 28), 4)
        return [p.probe("inplace_kl", [Call(fn=KL, args=(mu, lv))]),
                p.probe("inplace_elbo", [Call(fn=ELBO, args=refs)])]

    def judge(self, run: Run, probe_ids):
        expect_unmutated(run.call(probe_ids[0]), {0: "mu", 1: "logvar"})
        expect_unmutated(run.call(probe_ids[1]), {0: "x", 1: "recon_logits", 2: "mu", 3: "logvar"})


CHECKS = [KlValues(), KlShapeAndDtype(), ElboValues(), ElboScalarAndDtype(), ElboStability(), ElboGradients(),
          InputsUnchanged()]
