"""Checks for the WGAN-GP gradient penalty and the Wasserstein losses.

The critic is a public seeded MLP (D -> 16 -> 16 -> 1, tanh or leaky ReLU, returning (B, 1))
built inside the sandbox from weights drawn here. The judge rebuilds it in float64 and evaluates
`reference_models.wgan_gp` on the very float32 inputs the submission received. The critic's weights
are drawn so that its input-gradient norms spread around 1 (between about 0.2 and 3.3), where a
squared norm, a one-sided penalty or a missing -1 all change the result.

What the sandbox can show about create_graph: the critic's parameters require grad and the inputs
do not, so the penalty comes back requiring grad only if its graph reaches the critic's parameters
through the input gradient (or a leaf x_hat the submission marked, which without create_graph has no
path to the result either). A second call then runs the critic on its own, to show its parameters
still require grad. Requiring grad is not enough (a penalty marked with requires_grad_() after the
fact requires grad too): the harness also sends back d penalty / d theta for every parameter of the
critic (Call.param_grads, by torch.autograd.grad), compared with the reference's in float64, and
each parameter's `.grad` as the call left it (Call.record_grad): None stays None, and a `.grad` set
before the call (the critic's spec's "grads") comes back unchanged, so a .backward() through the
critic or a critic.zero_grad() shows. A float64 critic (its spec's "dtype") takes float64 inputs.

Tolerances (float32): the penalty is a mean of (||g|| - 1)^2 over <= 16 samples, g a product of
three small matrices: a correct float32 computation is within ~1e-6 relative; rtol 1e-4, atol 1e-5
(the contract's); float64 rtol 1e-9, atol 1e-9. Its parameter gradients (second derivatives of the
critic, O(1) here) are within ~1e-6 relative in float32: rtol 1e-4, atol 1e-5. The losses are
means of <= 64 scores: float32 rtol 1e-4, atol 1e-5; float64 rtol 1e-9, atol 1e-9.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from grader.checks import (
    Call,
    Check,
    CheckFailure,
    Differential,
    InputsUnchanged,
    KnownBugs,
    ObjectRef,
    Planner,
    TensorValue,
    Tol,
    build_objects,
    close,
    expect_close,
    expect_gradients,
    expect_scalar_tensor,
)
from grader.checks import Unchanged as UnchangedCall
from reference_models import wgan_gp as ref

GP = "gradient_penalty"
HIDDEN = 16
TOL = Tol(1e-4, 1e-5)
GAIN = 2.2  # the critic's hidden-layer gain: input-gradient norms of about 0.2 to 3.3
LOSS_TOL = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-9, 1e-9)}


def _spec(d: int, activation: str) -> dict:
    return {"sizes": [d, HIDDEN, HIDDEN, 1], "activation": activation, "out_activation": None}


def _critic_state(p: Planner, d: int, gain: float) -> dict[str, torch.Tensor]:
    g = p.generator
    return {"0.weight": torch.randn(HIDDEN, d, generator=g) * (gain / math.sqrt(d)),
            "0.bias": torch.randn(HIDDEN, generator=g) * 0.3,
            "2.weight": torch.randn(HIDDEN, HIDDEN, generator=g) * (gain / math.sqrt(HIDDEN)),
            "2.bias": torch.randn(HIDDEN, generator=g) * 0.3,
            "4.weight": torch.randn(1, HIDDEN, generator=g) * (1.0 / math.sqrt(HIDDEN)),
            "4.bias": torch.randn(1, generator=g)}


def _plan_penalty(p: Planner, probe: str, b: int, d: int, activation: str, *, extra_calls=()) -> dict:
    spec, state = _spec(d, activation), _critic_state(p, d, GAIN)
    real, fake, alpha = p.randn(b, d), p.randn(b, d, mean=0.5, std=2.0), p.uniform(b)
    calls = [Call(fn=GP, args=(ObjectRef("critic"), real, fake, alpha), record_state=("critic",)), *extra_calls]
    p.probe(probe, calls, objects={"critic": {"type": "mlp", **spec, "state": state}})
    return {"probe": probe, "spec": spec, "state": state, "inputs": (real.value, fake.value, alpha.value)}


# ---------------------------------------------------------------------------------------------
# what typical bugs return (float64, the same critic), so a failure can name the bug

def _input_grads(critic, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    with torch.enable_grad():
        return torch.autograd.grad(critic(x_hat).sum(), x_hat)[0]


def _penalty_from(critic, real, fake, alpha, *, x_hat=None, norms=None, reduce=torch.mean):
    x_hat = ref.interpolate(real, fake, alpha) if x_hat is None else x_hat(real, fake, alpha)
    g = _input_grads(critic, x_hat)
    n = g.flatten(1).norm(dim=1) if norms is None else norms(g)
    return reduce((n - 1).pow(2))


def _norms(c, r, f, a):
    return _input_grads(c, ref.interpolate(r, f, a)).flatten(1).norm(dim=1)


PENALTY_BUGS = KnownBugs({
    "x_hat = alpha * real + (1 - alpha) * fake: alpha weighs the real sample, 1 - alpha the fake one.":
        lambda c, r, f, a: ref.gradient_penalty(c, f, r, a),
    "alpha has shape (B,): reshape it to (B, 1) (one weight per sample, e.g. alpha.view(-1, 1)) before "
    "multiplying; alpha * real with real (B, D) broadcasts it along the features instead.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, x_hat=lambda r, f, a: a * r + (1 - a) * f),
    "The penalty uses the gradient's norm, not its squared norm: (||g|| - 1)^2 with ||g|| = sqrt(sum g^2).":
        lambda c, r, f, a: _penalty_from(c, r, f, a, norms=lambda g: g.flatten(1).pow(2).sum(1)),
    "The penalty is two-sided: (||g|| - 1)^2 also where ||g|| < 1, not only max(||g|| - 1, 0)^2.":
        lambda c, r, f, a: (F.relu(_norms(c, r, f, a) - 1) ** 2).mean(),
    "One norm per sample: ||g_i|| over sample i's dimensions (g.view(B, -1).norm(dim=1)), not one norm of the "
    "whole batch's gradient.": lambda c, r, f, a: _penalty_from(c, r, f, a, norms=lambda g: g.norm()),
    "Each sample's norm is over its own features (dim=1), not over the batch (dim=0).":
        lambda c, r, f, a: _penalty_from(c, r, f, a, norms=lambda g: g.norm(dim=0)),
    "Each sample's norm is over all its non-batch dimensions (g.view(B, -1).norm(dim=1)): on images, "
    "g.norm(dim=1) takes it over the channels of each pixel.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, norms=lambda g: g.norm(dim=1)),
    "Average the per-sample penalties over the batch, not sum them.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, reduce=torch.sum),
    "Differentiate critic(x_hat).sum(), not .mean(): with the mean every gradient is divided by the batch size.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, norms=lambda g: g.flatten(1).norm(dim=1) / len(g)),
    "The gradient is taken at x_hat, the interpolate, not at the real samples.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, x_hat=lambda r, f, a: r),
    "The gradient is taken at x_hat, the interpolate, not at the fake samples.":
        lambda c, r, f, a: _penalty_from(c, r, f, a, x_hat=lambda r, f, a: f),
})


PENALTY_HINT = ("a = alpha.view(B, *[1] * (real.dim() - 1)); x_hat = a * real + (1 - a) * fake; "
                "g = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)[0]; "
                "penalty = ((g.view(B, -1).norm(dim=1) - 1) ** 2).mean(). "
                "Use the alpha you are given: do not draw your own.")


class PenaltyValues(Differential):
    name, fn = "penalty_values", GP
    title = "gradient_penalty matches the reference (B x D = 8x5, 1x3, 16x2, 4x12; tanh and leaky-ReLU critics)"
    cases = [(8, 5, "tanh", None), (1, 3, "leaky_relu", None), (16, 2, "leaky_relu", None), (4, 12, "tanh", None)]
    tolerances, scalar, hint = TOL, True, PENALTY_HINT

    def objects(self, p, case):
        return {"critic": {"type": "mlp", **_spec(case[1], case[2]), "state": _critic_state(p, case[1], GAIN)}}

    def inputs(self, p, case):
        b, d, _, alpha = case
        return (ObjectRef("critic"), p.randn(b, d), p.randn(b, d, mean=0.5, std=2.0),
                p.uniform(b) if alpha is None else p.add(torch.tensor(alpha)))

    def _critic_and_inputs(self, case) -> list:
        return [build_objects(case.objects)["critic"].double(), *case.args64()[1:]]

    def expected(self, case):
        return ref.gradient_penalty(*self._critic_and_inputs(case)).detach()

    def known_bugs(self, case):
        return {h: v.detach() for h, v in PENALTY_BUGS(*self._critic_and_inputs(case)).items()}


class PenaltyAlpha(PenaltyValues):
    name = "penalty_alpha_per_sample"
    title = ("gradient_penalty interpolates each sample with its own alpha: alpha of 0 and 1 give fake and real "
             "exactly, and B == D does not hide a broadcast along the features")
    cases = [(6, 6, "tanh", [0.0, 1.0, 0.0, 1.0, 0.3, 0.7]), (5, 3, "tanh", [1.0, 1.0, 0.0, 0.0, 1.0])]


class PenaltyImages(PenaltyValues):
    name = "penalty_image_batches"
    title = ("gradient_penalty on image batches (B, C, H, W), with critics returning (B, 1) and (B,): each "
             "sample's norm is over all its non-batch dimensions")
    cases = [(6, (2, 3, 3), "tanh", False), (4, (3, 2, 4), "leaky_relu", True), (1, (1, 4, 4), "tanh", True)]

    def objects(self, p, case):
        d = math.prod(case[1])
        return {"critic": {"type": "mlp", **_spec(d, case[2]), "flatten": True, "squeeze": case[3],
                           "state": _critic_state(p, d, GAIN)}}

    def inputs(self, p, case):
        b, shape = case[0], case[1]
        return (ObjectRef("critic"), p.randn(b, *shape), p.randn(b, *shape, mean=0.5, std=2.0), p.uniform(b))


class PenaltyDifferentiable(Check):
    name = "penalty_differentiable"
    title = ("gradient_penalty is differentiable in the critic's parameters (create_graph=True), "
             "and the critic's parameters still require grad afterwards")

    def plan(self, p: Planner):
        probe_x = p.randn(3, 4)
        return _plan_penalty(p, "penalty_graph", 5, 4, "tanh",
                             extra_calls=(Call(object="critic", args=(probe_x,)),))

    def judge(self, run, planned):
        call = run.call(planned["probe"], 0)
        value = call.value()
        expect_scalar_tensor(value, what=f"`{call.description}`")
        if not value.requires_grad:
            raise CheckFailure(
                f"`{call.description}` returned a penalty that does not require grad: training the critic on it "
                "would not change the critic at all.",
                hint="Pass create_graph=True to torch.autograd.grad, so the gradient g is itself differentiable in "
                     "the critic's parameters, and do not detach g or the penalty.")
        after = run.call(planned["probe"], 1)
        if not after.tensor().requires_grad:
            raise CheckFailure(f"After your gradient_penalty, `{after.description}` no longer requires grad: the "
                               "critic's parameters were frozen.",
                               hint="Mark x_hat with requires_grad_(True); leave the critic's parameters as they are.")
        return None


FLOAT64_HINT = ("Keep the inputs' dtype all the way (here float64, and so is the critic): no .float(), "
                 ".type(torch.FloatTensor) or float32 constants on the way to x_hat.")


class PenaltyFloat64(PenaltyValues):
    name = "penalty_float64"
    title = "gradient_penalty works in float64 (a float64 critic, real, fake and alpha) and returns float64"
    cases = [(6, 5, "tanh", None), (3, 4, "leaky_relu", None)]
    tolerances = {torch.float32: TOL, torch.float64: Tol(1e-9, 1e-9)}
    dtype_hint = FLOAT64_HINT

    def objects(self, p, case):
        state = {k: v.double() for k, v in _critic_state(p, case[1], GAIN).items()}
        return {"critic": {"type": "mlp", **_spec(case[1], case[2]), "dtype": "float64", "state": state}}

    def inputs(self, p, case):
        b, d, dt = case[0], case[1], torch.float64
        return (ObjectRef("critic"), p.randn(b, d, dtype=dt), p.randn(b, d, mean=0.5, std=2.0, dtype=dt),
                p.uniform(b, dtype=dt))

    def error_hint(self, run, case, message):
        return FLOAT64_HINT

    def plan(self, p: Planner):
        """Each float64 case, and its float32 twin (the same critic and inputs rounded to float32): a penalty
        whose float32 value is already wrong is penalty_values' business, not a dtype problem."""
        out = []
        for i, case in enumerate(super().plan(p)):
            spec = case.objects["critic"]
            twin = {**spec, "dtype": "float32", "state": {k: v.float() for k, v in spec["state"].items()}}
            args = (ObjectRef("critic"), *(p.add(a.float()) for a in case.args[1:]))
            out.append((case, p.probe(f"{self.name}_float32_{i}", [Call(fn=GP, args=args)], objects={"critic": twin})))
        return out

    def judge(self, run, planned):
        for case, twin in planned:
            try:
                call = run.call(case.probe)
            except CheckFailure as failure:
                failure.hint = failure.hint or FLOAT64_HINT
                raise
            value, expected = call.value(), self.expected(case)
            wrong = isinstance(value, TensorValue) and value.data.dtype == torch.float64 and value.data.dim() == 0 \
                and not close(value.data, expected, self.tol(case))
            if wrong and not self._float32_right(run, twin, expected):
                continue  # the same wrong value in float32: penalty_values says what is wrong with it
            self.judge_case(call, case)
        return None

    @staticmethod
    def _float32_right(run, twin: str, expected: torch.Tensor) -> bool:
        try:
            value = run.call(twin).value()
        except CheckFailure:
            return False
        return isinstance(value, TensorValue) and close(value.data, expected, TOL)


class PenaltyParameterGradients(PenaltyValues):
    """create_graph's purpose: the penalty must train the critic. Its gradient with respect to every
    parameter of the critic (second derivatives through g) against the reference's."""

    name = "penalty_parameter_gradients"
    title = ("The gradient of gradient_penalty with respect to the critic's parameters matches the reference "
             "(create_graph=True makes g, and so the penalty, differentiable in them)")
    cases = [(8, 5, "tanh", None), (6, 4, "leaky_relu", None), (3, 7, "tanh", None)]

    def call(self, p, case, args, kwargs):
        return Call(fn=GP, args=args, kwargs=kwargs, param_grads=("critic",))

    def expected_grads(self, case) -> dict[str, torch.Tensor]:
        critic, *inputs = self._critic_and_inputs(case)
        names, params = zip(*critic.named_parameters(), strict=True)
        grads = torch.autograd.grad(ref.gradient_penalty(critic, *inputs), params, allow_unused=True)
        return {n: torch.zeros_like(q) if g is None else g for n, q, g in zip(names, params, grads, strict=True)}

    def judge_case(self, call, case):
        expected, got = self.expected_grads(case), call.param_grads("critic")
        what = f"`{call.description}`"
        missing = all(g is None for g in got.values())
        value = call.value()
        if not missing and not (isinstance(value, TensorValue) and close(value.data, self.expected(case), TOL)):
            return  # a wrong penalty has other gradients: penalty_values says what is wrong with its value
        if missing or all(not g.abs().sum() for g in got.values() if g is not None):
            raise CheckFailure(
                f"{what}: the penalty's gradient with respect to the critic's parameters is "
                f"{'missing' if missing else 'zero'}: training the critic on it would not push its input-gradient "
                "norms towards 1 (a penalty that merely requires grad, e.g. through requires_grad_(), is not enough).",
                hint="Pass create_graph=True to torch.autograd.grad, so that g is itself a differentiable function of "
                     "the critic's parameters, and do not detach g, its norms or the penalty.")
        for name, e in expected.items():
            g = got.get(name)
            if g is None:
                g = torch.zeros_like(e)
            if g.shape != e.shape:
                raise CheckFailure(f"{what}: the gradient for the critic's `{name}` has shape {tuple(g.shape)}, "
                                   f"expected {tuple(e.shape)}.")
            expect_close(g, e, what=f"d(penalty)/d(critic's {name}) of {what}", rtol=TOL.rtol, atol=TOL.atol,
                         hint="The penalty's value may be right while its graph is not: compute g with "
                              "torch.autograd.grad(..., create_graph=True) from critic(x_hat) itself, and build the "
                              "penalty from g without detaching anything. " + PENALTY_HINT)


class CriticGradUntouched(Check):
    name = "critic_grad_untouched"
    title = ("gradient_penalty leaves the critic's `.grad` untouched: None stays None, and a `.grad` set before "
             "the call stays as it was (no .backward() through the critic, no zero_grad())")

    def plan(self, p: Planner):
        out = []
        for n, (b, d, activation, preset) in enumerate([(5, 4, "tanh", False), (4, 3, "leaky_relu", True)]):
            state = _critic_state(p, d, GAIN)
            spec = {"type": "mlp", **_spec(d, activation), "state": state}
            if preset:
                spec["grads"] = {k: torch.randn(v.shape, generator=p.generator) for k, v in state.items()}
            real, fake, alpha = p.randn(b, d), p.randn(b, d, mean=0.5, std=2.0), p.uniform(b)
            call = Call(fn=GP, args=(ObjectRef("critic"), real, fake, alpha), record_grad=("critic",))
            out.append((p.probe(f"critic_grad{n}", [call], objects={"critic": spec}), spec.get("grads")))
        return out

    def judge(self, run, planned):
        backward_hint = ("Take the input gradient with torch.autograd.grad(critic(x_hat).sum(), x_hat, "
                         "create_graph=True): it returns g without writing any parameter's .grad. .backward() "
                         "accumulates into every parameter's .grad, and the critic's next optimiser step then "
                         "uses gradients that are not its loss's.")
        for probe, preset in planned:
            call = run.call(probe)
            got = call.grad_fields("critic")
            what = f"After `{call.description}`"
            for name, g in got.items():
                before = None if preset is None else preset.get(name)
                if before is None and g is not None:
                    raise CheckFailure(f"{what}, the critic's parameter `{name}` has a `.grad` (it had none before "
                                       "the call): something called .backward() through the critic.",
                                       hint=backward_hint)
                if before is not None and g is None:
                    raise CheckFailure(f"{what}, the `.grad` the critic's parameter `{name}` had before the call is "
                                       "gone: something called critic.zero_grad() (or set `.grad = None`).",
                                       hint="Leave `.grad` alone: the training loop zeroes the critic's gradients "
                                            "itself, and may have accumulated some before the penalty is computed.")
                if before is not None and g is not None and not torch.equal(g, before.to(g.dtype)):
                    raise CheckFailure(f"{what}, the `.grad` of the critic's parameter `{name}` changed: something "
                                       "called .backward() through the critic (or zeroed or edited `.grad`).",
                                       hint=backward_hint)
        return None


# ---------------------------------------------------------------------------------------------
# the losses

CRITIC_BUGS = KnownBugs({
    "The critic minimises E[f(fake)] - E[f(real)]: it scores real samples high. Your signs are swapped.":
        lambda r, f, gp, lambda_gp=10.0: r.mean() - f.mean() + lambda_gp * gp,
    "Add lambda_gp * penalty: the penalty is missing.": lambda r, f, gp, lambda_gp=10.0: f.mean() - r.mean(),
    "Use the lambda_gp you are given, not a fixed 10.": lambda r, f, gp, lambda_gp=10.0: f.mean() - r.mean() + 10 * gp,
    "Average the scores over their batch (mean), not sum them.":
        lambda r, f, gp, lambda_gp=10.0: f.sum() - r.sum() + lambda_gp * gp,
    "Subtract the penalty? No: the critic's loss *adds* lambda_gp * penalty.":
        lambda r, f, gp, lambda_gp=10.0: f.mean() - r.mean() - lambda_gp * gp,
})


def _scores(p: Planner, n: int, column: bool, dtype) -> object:
    return p.randn(n, 1, dtype=dtype, std=3.0) if column else p.randn(n, dtype=dtype, std=3.0)


class CriticLossValues(Differential):
    name, fn = "critic_loss_values", "critic_loss"
    title = "critic_loss = mean(fake) - mean(real) + lambda_gp * penalty ((B,) and (B, 1) scores, unequal batches)"
    # (real batch, fake batch, scores as (B, 1)?, dtype, lambda_gp or None)
    cases = [(8, 8, False, torch.float32, None), (6, 10, True, torch.float32, None),
             (5, 3, False, torch.float32, 5.0), (7, 7, True, torch.float64, 2.5), (1, 4, False, torch.float64, None)]
    tolerances, bugs, scalar = LOSS_TOL, CRITIC_BUGS, True
    hint = "critic_loss = fake_scores.mean() - real_scores.mean() + lambda_gp * penalty."

    def inputs(self, p, case):
        br, bf, column, dtype, _ = case
        return (_scores(p, br, column, dtype), _scores(p, bf, column, dtype),
                p.add(torch.rand((), generator=p.generator, dtype=torch.float64).to(dtype) * 2))

    def kwargs(self, p, case):
        return {} if case[4] is None else {"lambda_gp": case[4]}

    def reference(self, real, fake, penalty, lambda_gp=10.0):
        return ref.critic_loss(real, fake, penalty, lambda_gp)


GENERATOR_BUGS = KnownBugs({
    "The generator minimises -E[f(G(z))]: the minus sign is missing.": lambda f: f.mean(),
    "The WGAN generator loss is -mean(fake_scores), no log or sigmoid: the scores are not probabilities.":
        lambda f: F.softplus(-f).mean(),
    "Average over the batch, not sum.": lambda f: -f.sum(),
})


class GeneratorLossValues(Differential):
    name, fn = "generator_loss_values", "generator_loss_wgan"
    title = "generator_loss_wgan = -mean(fake_scores) ((B,) and (B, 1), float32 and float64)"
    cases = [((9,), torch.float32), ((6, 1), torch.float32), ((1,), torch.float64), ((5, 1), torch.float64)]
    tolerances, bugs, scalar = LOSS_TOL, GENERATOR_BUGS, True
    hint = "generator_loss_wgan = -fake_scores.mean()."

    def inputs(self, p, case):
        return (p.randn(*case[0], dtype=case[1], std=3.0),)

    def reference(self, fake):
        return ref.generator_loss_wgan(fake)


class LossGradients(Check):
    name = "loss_gradients"
    title = "Gradients of critic_loss (scores, penalty) and generator_loss_wgan match the reference"

    def plan(self, p: Planner):
        r, f, gp, g = p.randn(6, 1), p.randn(4, 1), p.add(torch.tensor(0.3)), p.randn(5)
        calls = [Call(fn="critic_loss", args=(r, f, gp), kwargs={"lambda_gp": 4.0}, grad_wrt=(0, 1, 2)),
                 Call(fn="generator_loss_wgan", args=(g,), grad_wrt=(0,))]
        return p.probe("loss_gradients", calls)

    def judge(self, run, probe):
        critic = run.call(probe, 0)
        expect_gradients(critic, {0: torch.full((6, 1), -1 / 6, dtype=torch.float64),
                                  1: torch.full((4, 1), 1 / 4, dtype=torch.float64),
                                  2: torch.tensor(4.0, dtype=torch.float64)},
                         names={0: "real_scores", 1: "fake_scores", 2: "penalty"}, tol=TOL,
                         what="d(critic_loss)/d{name}",
                         hint="critic_loss = fake_scores.mean() - real_scores.mean() + lambda_gp * penalty.")
        expect_gradients(run.call(probe, 1), {0: torch.full((5,), -1 / 5, dtype=torch.float64)},
                         names={0: "fake_scores"}, tol=TOL, what="d(generator_loss_wgan)/d{name}",
                         hint="generator_loss_wgan = -fake_scores.mean().")
        return None


class Unchanged(InputsUnchanged):
    title = "No function modifies its inputs in place, and gradient_penalty leaves the critic's parameters alone"

    def plan(self, p: Planner):
        planned = _plan_penalty(p, "inplace_penalty", 6, 3, "leaky_relu")
        r, f, gp = p.randn(4), p.randn(4), p.add(torch.tensor(0.5))
        return [UnchangedCall(planned["probe"], ("critic", "real", "fake", "alpha")),
                UnchangedCall(p.call("inplace_critic_loss", "critic_loss", r, f, gp),
                              ("real_scores", "fake_scores", "penalty")),
                UnchangedCall(p.call("inplace_generator_loss", "generator_loss_wgan", p.randn(4)),
                              ("fake_scores",))], planned

    def judge(self, run, planned):
        unchanged, penalty = planned
        super().judge(run, unchanged)
        call = run.call(penalty["probe"])
        got = call.state("critic")
        if any(not torch.equal(got.get(k, torch.empty(0)), v) for k, v in penalty["state"].items()):
            raise CheckFailure(f"`{call.description}` changed the critic's parameters.",
                               hint="Only call critic(...) and torch.autograd.grad: no optimizer step, no edits.")
        return None


CHECKS = [PenaltyValues(), PenaltyAlpha(), PenaltyImages(), PenaltyFloat64(), PenaltyDifferentiable(),
          PenaltyParameterGradients(), CriticGradUntouched(), CriticLossValues(), GeneratorLossValues(),
          LossGradients(), Unchanged()]
