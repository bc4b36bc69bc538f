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

from grader.checks import (
    Call,
    Case,
    Check,
    CheckFailure,
    Differential,
    InputsUnchanged,
    KnownBugs,
    Planner,
    Returns,
    Run,
    Tol,
    autograd_grads,
    bug_grads,
    expect_close,
    expect_gradients,
    expect_scalar_tensor,
    f64,
    show_tensor,
)
from reference_models.vae import gaussian_kl as reference_kl
from reference_models.vae import negative_elbo as reference_elbo

KL, ELBO = "gaussian_kl", "negative_elbo"
KL_TOL, ELBO_TOL, GRAD_TOL = Tol(1e-4, 1e-4), Tol(1e-4, 1e-3), Tol(1e-4, 1e-6)


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


# ---------------------------------------------------------------------------------------------
# what typical bugs return (float64), so a failure can name the bug

def _kl_terms(mu, lv, *, var=torch.exp):
    return 0.5 * (mu.pow(2) + var(lv) - 1 - lv).sum(-1)


def _kl_var_squared(mu, lv):  # exp(logvar) used as the standard deviation
    return 0.5 * (mu.pow(2) + (2 * lv).exp() - 1 - 2 * lv).sum(-1)


KL_BUGS = KnownBugs({
    "Your KL has the wrong sign: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) is never negative.":
        lambda mu, lv: -reference_kl(mu, lv),
    "Your KL is twice the expected value: you are missing the factor 1/2.": lambda mu, lv: 2 * reference_kl(mu, lv),
    "Your KL looks like the *mean* over the latent dimensions; the KL of a row is the *sum* over them.":
        lambda mu, lv: reference_kl(mu, lv) / mu.shape[-1],
    "You used exp(logvar) as the standard deviation: logvar is the log of the variance, so the variance "
    "is exp(logvar) and the standard deviation exp(logvar / 2).": _kl_var_squared,
    "You used exp(logvar / 2) (the standard deviation) where the variance exp(logvar) belongs.":
        lambda mu, lv: _kl_terms(mu, lv, var=lambda t: (0.5 * t).exp()),
    "You left out the constant -1 in each term of the KL.": lambda mu, lv: reference_kl(mu, lv) + mu.shape[-1] / 2,
    "You left out the mu^2 term of the KL.": lambda mu, lv: 0.5 * (lv.exp() - 1 - lv).sum(-1),
})


def _bce(x, logits):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)  # (B, pixels)


def _recon(x, logits):
    return _bce(x, logits).sum(1)


# Each value is differentiable, so the gradient check can name the same bugs.
ELBO_BUGS = KnownBugs({
    "Average over the batch, not sum: the loss is the *mean* of the per-sample negative ELBO.":
        lambda x, l, mu, lv: (_recon(x, l) + reference_kl(mu, lv)).sum(),
    "Sum the binary cross-entropy over all pixels of a sample (not the mean), then average over the batch.":
        lambda x, l, mu, lv: (_bce(x, l).mean(1) + reference_kl(mu, lv)).mean(),
    "`F.binary_cross_entropy_with_logits(...)` averages over every element by default: sum over the "
    "pixels of each sample (reduction='none' then .flatten(1).sum(1), or reduction='sum' / batch size).":
        lambda x, l, mu, lv: _bce(x, l).mean() + reference_kl(mu, lv).mean(),
    "You returned the ELBO; the function returns its negative (BCE + KL, a loss to minimise).":
        lambda x, l, mu, lv: -(_recon(x, l) + reference_kl(mu, lv)).mean(),
    "Your KL term has the wrong sign: the negative ELBO is reconstruction BCE *plus* the KL.":
        lambda x, l, mu, lv: (_recon(x, l) - reference_kl(mu, lv)).mean(),
    "Your KL term is twice too large: you are missing the factor 1/2 in the KL.":
        lambda x, l, mu, lv: (_recon(x, l) + 2 * reference_kl(mu, lv)).mean(),
    "The KL term is missing: the negative ELBO is the reconstruction BCE plus the KL of each sample.":
        lambda x, l, mu, lv: _recon(x, l).mean(),
    "Your BCE has the wrong sign: BCE = -(x log p + (1 - x) log(1 - p)) is never negative.":
        lambda x, l, mu, lv: (-_recon(x, l) + reference_kl(mu, lv)).mean(),
    "`recon_logits` are logits already: do not apply `sigmoid` before `binary_cross_entropy_with_logits`.":
        lambda x, l, mu, lv: (_recon(x, torch.sigmoid(l)) + reference_kl(mu, lv)).mean(),
    "Your KL looks like the mean over the latent dimensions; the KL of a sample is the sum over them.":
        lambda x, l, mu, lv: (_recon(x, l) + reference_kl(mu, lv) / mu.shape[-1]).mean(),
    "You used exp(logvar) as the standard deviation in the KL; the variance is exp(logvar).":
        lambda x, l, mu, lv: (_recon(x, l) + _kl_var_squared(mu, lv)).mean(),
    "You used exp(logvar / 2) (the standard deviation) where the variance exp(logvar) belongs in the KL.":
        lambda x, l, mu, lv: (_recon(x, l) + _kl_terms(mu, lv, var=lambda t: (0.5 * t).exp())).mean(),
})


# ---------------------------------------------------------------------------------------------
# gaussian_kl

class KlValues(Differential):
    name, fn = "kl_values", KL
    title = "gaussian_kl matches the closed-form KL (B x D = 1x1, 7x3, 64x32; large |mu|, logvar in [-10, 10])"
    cases = [  # (B, D, mu std, logvar range)
        (1, 1, 1.0, 2.0),
        (7, 3, 1.0, 3.0),
        (64, 32, 1.5, 4.0),
        (16, 8, 30.0, 10.0),  # large |mu| and logvar in [-10, 10]
    ]
    tolerances, bugs, keep_dtype = KL_TOL, KL_BUGS, False
    hint = ("KL(N(mu, exp(logvar)) || N(0, 1)) = 1/2 * sum over the last dimension of "
            "(mu^2 + exp(logvar) - 1 - logvar).")

    def inputs(self, p, case):
        b, d, mu_std, lv_range = case
        return p.randn(b, d, std=mu_std), p.add(_uniform(p, b, d, low=-lv_range, high=lv_range).to(torch.float32))

    def reference(self, mu, logvar):
        return reference_kl(mu, logvar)


class KlShapeAndDtype(Returns):
    name, fn = "kl_shape_and_dtype", KL
    title = "gaussian_kl returns shape (B,) with the inputs' dtype (float32 and float64, B = 1 included)"
    cases = [Case((1, 1)), Case((5, 4)), Case((1, 6), torch.float64), Case((6, 3), torch.float64)]

    def inputs(self, p, case):
        return p.randn(*case.shape, dtype=case.dtype), p.randn(*case.shape, dtype=case.dtype)

    def shape(self, case):
        return case.case.shape[:1]


# ---------------------------------------------------------------------------------------------
# negative_elbo

class ElboValues(Differential):
    name, fn = "elbo_values", ELBO
    title = ("negative_elbo matches the reference for x of shape (B, 784), (B, 1, 28, 28), (B, 3, 4, 5) "
             "with x anywhere in [0, 1]")
    cases = [((8, 784), 16), ((5, 1, 28, 28), 10), ((6, 3, 4, 5), 2), ((1, 784), 1)]  # (x shape, latent dimension)
    tolerances, bugs, keep_dtype, scalar = ELBO_TOL, ELBO_BUGS, False, True
    hint = ("Per sample: BCE of the logits against x summed over every non-batch dimension, "
            "plus gaussian_kl(mu, logvar); then the mean over the batch.")

    def inputs(self, p, case):
        return _plan_elbo_inputs(p, *case)

    def reference(self, *args):
        return reference_elbo(*args)


class ElboScalarAndDtype(Returns):
    name, fn, scalar = "elbo_scalar_and_dtype", ELBO, True
    title = "negative_elbo returns a 0-dim tensor with the inputs' dtype (float32 and float64, B = 1 included)"
    cases = [Case((4, 784), extra=8), Case((1, 3, 4, 5), extra=2), Case((3, 1, 28, 28), torch.float64, extra=4)]

    def inputs(self, p, case):
        return _plan_elbo_inputs(p, case.shape, case.extra, dtype=case.dtype)


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
        got = expect_scalar_tensor(call.value(), what=what, finite=False)
        if not bool(torch.isfinite(got)):
            raise CheckFailure(f"{what}: the loss is not finite.", got=show_tensor(got), hint=self.HINT)
        x, logits, mu, lv = f64(*refs)
        x32, logits32 = refs[0].value, refs[1].value
        clamped = F.binary_cross_entropy(torch.sigmoid(logits32), x32, reduction="none").double().flatten(1).sum(1)
        bugs = {self.HINT: (clamped + reference_kl(mu, lv)).mean(), **ELBO_BUGS(x, logits, mu, lv)}
        expect_close(got, reference_elbo(x, logits, mu, lv), what=what, rtol=ELBO_TOL.rtol, atol=ELBO_TOL.atol,
                     known_bugs=bugs, hint=self.HINT)


class ElboGradients(Check):
    name = "elbo_gradients"
    title = "Gradients of negative_elbo with respect to recon_logits, mu and logvar match the reference"

    def plan(self, p: Planner):
        refs = _plan_elbo_inputs(p, (6, 784), 5)
        return p.probe("gradients", [Call(fn=ELBO, args=refs, grad_wrt=(1, 2, 3))]), f64(*refs)

    def judge(self, run: Run, planned):
        probe_id, inputs = planned
        call = run.call(probe_id)
        expect_scalar_tensor(call.value(), what=f"`{call.description}`")
        wrt = (1, 2, 3)
        expect_gradients(
            call, dict(zip(wrt, autograd_grads(reference_elbo, inputs, wrt), strict=True)),
            names={1: "recon_logits", 2: "mu", 3: "logvar"}, tol=GRAD_TOL, what="d(negative_elbo)/d{name}",
            known_bugs=bug_grads(ELBO_BUGS, inputs, wrt),
            hint=("Check the terms of the loss that depend on this argument; the expected gradient is the "
                  "reference loss's autograd gradient on the same inputs."),
            missing_hint=("The loss is used for training: do not `.detach()` it, compute it under "
                          "`torch.no_grad()`, or rebuild it from Python numbers (`.item()`, `torch.tensor(...)`)."))


# ---------------------------------------------------------------------------------------------

class Unchanged(InputsUnchanged):
    title = "Neither function modifies its input tensors in place"

    def probes(self, p: Planner):
        mu, lv = p.randn(8, 4), p.randn(8, 4)
        refs = _plan_elbo_inputs(p, (4, 1, 28, 28), 4)
        return [(p.call("inplace_kl", KL, mu, lv), ("mu", "logvar")),
                (p.call("inplace_elbo", ELBO, *refs), ("x", "recon_logits", "mu", "logvar"))]


CHECKS = [KlValues(), KlShapeAndDtype(), ElboValues(), ElboScalarAndDtype(), ElboStability(), ElboGradients(),
          Unchanged()]
