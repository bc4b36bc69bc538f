"""Checks for the GAN minimax exercise: `discriminator_loss`, `generator_loss`, `train_step`.

The loss checks compare with `reference_models.gan` on the same inputs (computed
in float64). The train_step checks build the same tiny seeded networks inside
the sandbox (public "mlp" objects, no batch-norm or dropout, so train_step is
deterministic) and on the trusted side, run the reference train_step on the
same initial weights and inputs, and compare every parameter afterwards.

Pass or fail is decided only by "matches the reference within tolerance". To
name the likely bug, the judge also simulates known-buggy train_steps on the
trusted side and says which one (if any) the submission's parameters match.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from grader.checks import (
    Call,
    Check,
    CheckFailure,
    Differential,
    Gradients,
    InputsUnchanged,
    KnownBugs,
    ObjectRef,
    Planner,
    Returns,
    Run,
    Tol,
    build_objects,
    close,
    compare_states,
    default_init,
    expect_floats,
    first_match,
    show_tensor,
    snapshot,
)
from grader.harness.objects import mlp
from reference_models import gan as ref

# tolerances (float32 computations; the contract asks for tighter than 1e-3 here)
LOSS_TOL, GRAD_TOL, PARAM_TOL = Tol(1e-5, 1e-6), Tol(1e-4, 1e-6), Tol(1e-5, 1e-5)
BUG_TOL = Tol(1e-4, 1e-4)  # a simulated bug matches the student's result within this

# the tiny networks of the train_step probes
Z_DIM, X_DIM, HIDDEN = 3, 4, 8
G_SPEC = {"sizes": [Z_DIM, HIDDEN, X_DIM], "activation": "leaky_relu", "out_activation": "tanh"}
D_SPEC = {"sizes": [X_DIM, HIDDEN, 1], "activation": "leaky_relu", "out_activation": None}
OPTIMIZERS = {
    "sgd": {"options": {"lr": 0.1}, "describe": "SGD(lr=0.1)"},
    # eps=1e-4 instead of 1e-8: Adam's first step is lr * g / (|g| + eps), which with a tiny eps is lr * sign(g),
    # and the sign of a near-zero gradient can flip with float32 rounding between correct implementations.
    # With eps = 1e-4 a gradient error d moves a parameter by at most about lr * d / eps.
    "adam": {"options": {"lr": 0.01, "betas": [0.5, 0.999], "eps": 1e-4},
             "describe": "Adam(lr=0.01, betas=(0.5, 0.999), eps=1e-4)"},
}

LOSS_HINT = ("Compute from logits with the softplus identities: -log D(x) = softplus(-logit) and "
             "-log(1 - D(x)) = softplus(logit) (or `F.binary_cross_entropy_with_logits` / `F.logsigmoid`).")



# --- losses: reference and typical bugs (all on float64 copies) ------------------------------------------

D_BUGS = KnownBugs({
    "Each expectation is the mean over its own batch and the two means are added: do not average the real and "
    "fake terms over the concatenated batch, and do not divide the sum of the two means by 2.":
        lambda r, f: (F.softplus(-r).sum() + F.softplus(f).sum()) / (r.numel() + f.numel()),
    "The discriminator loss is the sum of the two means, not their average: do not divide by 2.":
        lambda r, f: 0.5 * (F.softplus(-r).mean() + F.softplus(f).mean()),
    "Real and fake labels are swapped: real logits should be pushed up (target 1, -log D(x)) and fake logits "
    "down (target 0, -log(1 - D(G(z)))).":
        lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(),
    "Take the mean over each batch, not the sum.":
        lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
    "The sign is flipped: the loss is -E[log D(x)] - E[log(1 - D(G(z)))], a positive number.":
        lambda r, f: -(F.softplus(-r).mean() + F.softplus(f).mean()),
    "Only the real term came through: add the fake term -E[log(1 - D(G(z)))].":
        lambda r, f: F.softplus(-r).mean(),
    "Only the fake term came through: add the real term -E[log D(x)].":
        lambda r, f: F.softplus(f).mean(),
})

G_BUGS = KnownBugs({
    "This is the saturating (minimax) generator loss E[log(1 - D(G(z)))]; the contract asks for the "
    "non-saturating loss -E[log D(G(z))], whose gradient does not vanish when D confidently rejects the fakes.":
        lambda f: -F.softplus(f).mean(),
    "This is -E[log(1 - D(G(z)))], the discriminator's term for fakes: the generator wants D(G(z)) close to 1, "
    "so its loss is -E[log D(G(z))] = mean(softplus(-logits)).":
        lambda f: F.softplus(f).mean(),
    "The sign is flipped: the loss is -E[log D(G(z))], a positive number.":
        lambda f: -F.softplus(-f).mean(),
    "Take the mean over the batch, not the sum.":
        lambda f: F.softplus(-f).sum(),
})


def _loss(*logits):
    """The reference loss of a case: discriminator_loss(real, fake) or generator_loss(fake)."""
    return (ref.discriminator_loss if len(logits) == 2 else ref.generator_loss)(*logits)


def _loss_fn(logits) -> str:
    return "discriminator_loss" if len(logits) == 2 else "generator_loss"


class LossValues(Differential):
    """A loss against the reference: a case of two logit batches (their shapes) calls discriminator_loss, of one
    generator_loss; a one-element result counts as a number."""

    tolerances, keep_dtype, numbers = LOSS_TOL, False, True
    reference, function = staticmethod(_loss), staticmethod(_loss_fn)

    def inputs(self, p, case):
        return tuple(p.randn(*shape, std=2.0) for shape in case)

    def known_bugs(self, case):
        return (D_BUGS if len(case.args) == 2 else G_BUGS)(*case.args64())


class DiscriminatorLossValues(LossValues):
    name = "discriminator_loss_values"
    title = ("discriminator_loss matches -E[log D(x)] - E[log(1 - D(G(z)))] (batch sizes 1 to 8, real and fake "
             "batches of different sizes)")
    cases = [((8,), (8,)), ((1,), (1,)), ((5,), (3,)), ((2,), (7,)), ((4, 1), (6, 1))]
    hint = ("discriminator_loss(real_logits, fake_logits) = mean(softplus(-real_logits)) + "
            "mean(softplus(fake_logits)), each mean over its own batch.")


class GeneratorLossValues(LossValues):
    name = "generator_loss_values"
    title = "generator_loss matches the non-saturating loss -E[log D(G(z))] (batch sizes 1 to 16)"
    cases = [((8,),), ((1,),), ((16,),), ((5, 1),)]
    hint = "generator_loss(fake_logits) = mean(softplus(-fake_logits)) = -mean(log D(G(z)))."


class LossesScalarAndDtype(Returns):
    name, scalar = "losses_scalar_and_dtype", True
    title = "Both losses return a 0-dim tensor of the input's dtype (float32 and float64)"
    cases = [(shapes, dtype) for dtype in (torch.float32, torch.float64) for shapes in (((4, 1), (3, 1)), ((6, 1),))]

    def function(self, case):
        return _loss_fn(case[0])

    def inputs(self, p, case):
        return tuple(p.randn(*shape, dtype=case[1]) for shape in case[0])


_RAMP, _EXTREMES = torch.linspace(-50.0, 50.0, 11), torch.tensor([-50.0, -30.0, -17.0, 17.0, 30.0, 50.0])


class LossesStable(LossValues):
    name = "losses_stable"
    title = "Both losses stay finite and exact for logits from -50 to 50 (float32 and float64)"
    cases = [(_RAMP, _RAMP.flip(0)), (_RAMP, _RAMP), (torch.full((4,), 50.0), torch.full((3,), -50.0)),
             (torch.full((3,), -50.0), torch.full((4,), 50.0)), (_EXTREMES, _EXTREMES.flip(0)),
             (_RAMP.double(), _RAMP.double().flip(0)),
             (_RAMP,), (torch.full((4,), -50.0),), (torch.full((5,), 50.0),), (_EXTREMES,), (_RAMP.double(),)]
    nonfinite_hint = "sigmoid(50) rounds to exactly 1.0, so log(1 - sigmoid(x)) becomes log(0) = -inf. " + LOSS_HINT
    hint = ("Torch's log(sigmoid(x)) or clamped probabilities lose exactness at large |x|. "
            + LOSS_HINT + " If the loss-value checks fail too, fix those first.")

    def inputs(self, p, case):
        return tuple(p.add(t) for t in case)

    def what(self, call, case):
        return f"`{call.description}` with logits " + " and ".join(show_tensor(t, limit=11) for t in case.args)


class LossGradients(Gradients):
    name, tolerances, grad_what = "loss_gradients", GRAD_TOL, "d loss / d {name} for `{call}`"
    title = "Gradients of both losses with respect to the logits match the reference"
    cases, reference, function = [(7, 5), (6,)], staticmethod(_loss), staticmethod(_loss_fn)
    hint = ("d/dx softplus(-x) = sigmoid(x) - 1 and d/dx softplus(x) = sigmoid(x), each "
            "divided by its batch size. If the loss-value checks fail too, fix those first.")
    missing_hint = ("The loss must be differentiable with respect to the logits: do not use `.item()`, "
                    "`.detach()`, `torch.no_grad()` or `torch.tensor(...)` on the way to the result.")

    def inputs(self, p, case):
        return tuple(p.randn(n, std=3.0) for n in case)

    def names(self, case):
        return dict(enumerate(("real_logits", "fake_logits")[2 - len(case.args):]))

    def bug_table(self, case):
        return D_BUGS if len(case.args) == 2 else G_BUGS


class Unchanged(InputsUnchanged):
    title = "Neither the losses nor train_step modify their input tensors in place"

    def probes(self, p):
        r, f, g = p.randn(6), p.randn(4), p.randn(5)
        return [(p.call("inplace_d", "discriminator_loss", r, f), ("real_logits", "fake_logits")),
                (p.call("inplace_g", "generator_loss", g), ("fake_logits",)),
                (_steps(p, "sgd")["probe"], {4: "real", 5: "z"}, 0, True)]


# --- train_step: reference, known-buggy variants, probes -------------------------------------------------

def _old_d(G, D, opt_G, opt_D, real, z):
    """Both losses from one forward pass: the generator step sees D before its update."""
    opt_D.zero_grad()
    opt_G.zero_grad()
    fake = G(z)
    d_loss = ref.discriminator_loss(D(real), D(fake.detach()))
    g_loss = ref.generator_loss(D(fake))
    g_grads = torch.autograd.grad(g_loss, list(G.parameters()))
    d_loss.backward()
    opt_D.step()
    for p, g in zip(G.parameters(), g_grads, strict=True):
        p.grad = g
    opt_G.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def _g_first_fresh_fake(G, D, opt_G, opt_D, real, z):
    opt_G.zero_grad()
    g_loss = ref.generator_loss(D(G(z)))
    g_loss.backward()
    opt_G.step()
    opt_D.zero_grad()
    d_loss = ref.discriminator_loss(D(real), D(G(z).detach()))
    d_loss.backward()
    opt_D.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def _variant(*, detach=True, zero_d="start", zero_g="step2", d_steps=1, g_loss_detached=False, d_step_in_step2=False,
             d_loss_fn=ref.discriminator_loss, g_loss_fn=ref.generator_loss):
    """The contract's train_step with one deviation (zero_*: "start", "step2", "after_step" or None; a loss bug)."""

    def step(G, D, opt_G, opt_D, real, z):
        if zero_d == "start":
            opt_D.zero_grad()
        if zero_g == "start":
            opt_G.zero_grad()
        fake = G(z)
        d_loss = d_loss_fn(D(real), D(fake.detach() if detach else fake))
        d_loss.backward(retain_graph=not detach)
        for _ in range(d_steps):
            opt_D.step()
        if zero_d == "after_step":
            opt_D.zero_grad()
        if zero_g == "step2":
            opt_G.zero_grad()
        g_loss = g_loss_fn(D(fake.detach() if g_loss_detached else fake))
        if g_loss.requires_grad:
            g_loss.backward()
        if d_step_in_step2:
            opt_D.step()
        opt_G.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}

    return step


_LOSSES_FIRST = " (discriminator_loss / generator_loss fail their own checks: fix them first.)"

VARIANTS: list[tuple[str, Callable]] = [
    ("G's parameters moved as if the generator step used the discriminator from before its update: compute "
     "generator_loss on D(fake) after opt_D.step() (did you update G before D, or compute both losses from one "
     "forward pass?).", _old_d),
    ("The generator was updated before the discriminator: the contract's order is the discriminator step first, "
     "then the generator step with the just-updated D.", _g_first_fresh_fake),
    ("G's gradients were not zeroed before the generator's backward, so gradients from the previous call "
     "accumulated: call opt_G.zero_grad() at the start of the generator step.", _variant(zero_g=None)),
    ("fake was not detached in the discriminator step and G's gradients were not zeroed before the generator's "
     "backward, so G was also pushed by the discriminator's loss: use D(fake.detach()) in step 1, or call "
     "opt_G.zero_grad() right before the generator's backward.", _variant(detach=False, zero_g="start")),
    ("fake was not detached in the discriminator step and G's gradients were never zeroed, so G was pushed by "
     "the discriminator's loss and by earlier calls: use D(fake.detach()) and call opt_G.zero_grad() in step 2.",
     _variant(detach=False, zero_g=None)),
    ("D's gradients were not zeroed at the start of the discriminator step, so gradients from the previous call "
     "(including those the generator's backward writes into D) were added: call opt_D.zero_grad() first.",
     _variant(zero_d=None)),
    ("D's gradients were zeroed after opt_D.step(), but the generator's backward then writes gradients into D's "
     ".grad again, and the next discriminator step adds them: zero D's gradients at the start of the "
     "discriminator step.", _variant(zero_d="after_step")),
    ("D was updated twice in one call: call opt_D.step() exactly once per train_step.", _variant(d_steps=2)),
    ("opt_D.step() was also called in the generator step, where D's .grad holds the generator's gradients "
     "(added to the discriminator's): call opt_D.step() only in the discriminator step.",
     _variant(d_step_in_step2=True)),
    ("G did not learn: the generator's loss must flow back through D into G, so do not compute D(fake) on "
     "fake.detach() or under torch.no_grad() in the generator step.", _variant(g_loss_detached=True)),
]
VARIANTS += [(f"The parameters match a train_step whose {loss} has this bug: {hint}{_LOSSES_FIRST}",
              _variant(**{f"{loss[0]}_loss_fn": fn}))
             for loss, bugs in (("discriminator_loss", list(D_BUGS.items())[:5]), ("generator_loss", G_BUGS.items()))
             for hint, fn in bugs]
VARIANTS.append(("The parameters match a train_step whose losses are sums over the batch: take the mean over each "
                 "batch, not the sum." + _LOSSES_FIRST,
                 _variant(d_loss_fn=lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
                          g_loss_fn=lambda f: F.softplus(-f).sum())))


def _steps(p: Planner, kind: str) -> dict:
    """Two train_step calls on tiny seeded networks, G's and D's parameters recorded after each (one probe per
    optimizer, shared by the checks)."""
    def plan(q: Planner) -> dict:
        objects = {"G": {"type": "mlp", **G_SPEC, "state": default_init(q, mlp(**G_SPEC))},
                   "D": {"type": "mlp", **D_SPEC, "state": default_init(q, mlp(**D_SPEC))},
                   "opt_G": {"type": kind, "params_of": "G", "options": OPTIMIZERS[kind]["options"]},
                   "opt_D": {"type": kind, "params_of": "D", "options": OPTIMIZERS[kind]["options"]}}
        batch = 6 if kind == "sgd" else 5
        batches = [(q.randn(batch, X_DIM), q.randn(batch, Z_DIM)) for _ in range(2)]
        calls = [Call(fn="train_step", args=(*map(ObjectRef, objects), real, z), record_state=("G", "D"))
                 for real, z in batches]
        return {"probe": q.probe(f"{kind}_steps", calls, objects=objects), "kind": kind, "objects": objects,
                "batches": [(r.value, z.value) for r, z in batches], "batch": batch}

    return p.shared(f"{kind}_steps", plan)


def simulate(step: Callable, planned: dict) -> list[dict]:
    """Run a train_step on the trusted side from the probe's initial weights: state and losses after each call."""
    objects, out = build_objects(planned["objects"]), []
    for real, z in planned["batches"]:
        losses = step(*objects.values(), real.clone(), z.clone())  # before the snapshot: the state after the call
        out.append({"state": snapshot(G=objects["G"], D=objects["D"]), "losses": losses})
    return out


def _simulations(planned: dict) -> tuple[list[dict], list[tuple[str, list[dict]]]]:
    if "_sims" not in planned:  # cached: several checks judge the same probe
        # a variant that cannot run on these inputs names no bug
        variants = KnownBugs((hint, partial(simulate, step)) for hint, step in VARIANTS)(planned)
        planned["_sims"] = (simulate(ref.train_step, planned), list(variants.items()))
    return planned["_sims"]


def _matching_variant(got: list[dict], reference: list[dict], variants, calls: range) -> str | None:
    """The first known-buggy variant that differs from the reference on these calls and matches the student."""
    return first_match(got, variants, lambda g, v: all(not compare_states(g[j], v[j]["state"], BUG_TOL) for j in calls),
                       reference, lambda v, r: any(compare_states(v[j]["state"], r[j]["state"], PARAM_TOL)
                                                   for j in calls))


def _compare_steps(run: Run, planned: dict, indices: list[int]) -> None:
    """Fail unless the student's G and D after each call in `indices` match the reference train_step."""
    calls = [run.call(planned["probe"], i) for i in range(max(indices) + 1)]
    got = [{"G": c.state("G"), "D": c.state("D")} for c in calls]
    reference, variants = _simulations(planned)
    for i in indices:
        diff = compare_states(got[i], reference[i]["state"], PARAM_TOL)
        if not diff:
            continue
        detail, expected, got_text = diff.first()
        calls_text = "one call" if i == 0 else f"{i + 1} consecutive calls"
        hint = _matching_variant(got, reference, variants, range(i + 1))
        raise CheckFailure(
            f"After {calls_text} of `{calls[-1].description}` (G: MLP {G_SPEC['sizes']} with tanh output, D: MLP "
            f"{D_SPEC['sizes']}, both optimizers {OPTIMIZERS[planned['kind']]['describe']}, batch size "
            f"{planned['batch']}, fixed initial weights), {diff.count} of {diff.total} parameter values of "
            f"{' and '.join(diff.objects)} differ from what the contract's train_step gives on the same weights and "
            f"inputs (tolerance: {PARAM_TOL}); {detail}.",
            expected=expected, got=got_text, hint=hint or _generic_hint(got, reference, i, diff.objects))


def _generic_hint(got: list[dict], reference: list[dict], i: int, nets: list[str]) -> str:
    earlier_ok = i > 0 and not any(compare_states(got[j], reference[j]["state"], PARAM_TOL) for j in range(i))
    if earlier_ok:
        return ("The parameters are right after the first call but not after the next: something carries over "
                "between calls. Zero D's gradients at the start of the discriminator step and G's gradients at the "
                "start of the generator step (the generator's backward also writes gradients into D).")
    parts = []
    if "D" in nets:
        parts.append("D's parameters differ after the first call: check the order and zero_grad. The "
                     "discriminator step is opt_D.zero_grad(), fake = G(z), discriminator_loss(D(real), "
                     "D(fake.detach())), backward, one opt_D.step().")
    if "G" in nets:
        parts.append("G's parameters differ: the generator step is opt_G.zero_grad(), generator_loss(D(fake)) "
                     "with the just-updated D, backward, one opt_G.step().")
    return " ".join(parts) + " If discriminator_loss or generator_loss fail their own checks, fix them first."


class TrainStepParameters(Check):
    """G's and D's parameters after the calls `after` of the `kind` probe, against the reference train_step's."""

    def __init__(self, name: str, kind: str, after: list[int], title: str):
        self.name, self.kind, self.after, self.title = name, kind, after, title

    def plan(self, p):
        return _steps(p, self.kind)

    def judge(self, run, planned):
        _compare_steps(run, planned, self.after)


class TrainStepReturns(Check):
    name = "train_step_returns"
    title = 'train_step returns {"d_loss": float, "g_loss": float}: the two losses as Python floats'

    def plan(self, p):
        return _steps(p, "sgd")

    def judge(self, run, planned):
        reference, variants = _simulations(planned)
        for i in range(len(planned["batches"])):
            call = run.call(planned["probe"], i)
            what = f"The value returned by `{call.description}` (call {i + 1} of {len(planned['batches'])})"
            value = expect_floats(call.value(), ("d_loss", "g_loss"), what=what, fn="train_step",
                                  nonfinite_hint="The loss is not finite: check the loss functions' stability.")
            expected = reference[i]["losses"]
            for key, other in (("d_loss", "g_loss"), ("g_loss", "d_loss")):
                got = value[key]
                if close(got, expected[key], LOSS_TOL):
                    continue
                hint = f'You returned the {other} value under "{key}": the keys are swapped.' \
                    if close(got, expected[other], LOSS_TOL) else first_match(
                        got, [(h, states[i]["losses"][key]) for h, states in variants],
                        lambda g, b: close(g, b, BUG_TOL), expected[key], lambda b, e: not close(b, e, LOSS_TOL))
                if hint is None:
                    hint = (f"Return the {'discriminator' if key == 'd_loss' else 'generator'} loss exactly as "
                            f"computed in step {1 if key == 'd_loss' else 2} of this call"
                            + (" (the generator's loss uses D after opt_D.step())" if key == "g_loss" else "")
                            + ". If the parameter checks fail too, fix those first.")
                raise CheckFailure(f'{what}: "{key}" differs from the reference (tolerance: {LOSS_TOL}).',
                                   expected=f"{expected[key]:.7g}", got=f"{got:.7g}", hint=hint)


CHECKS = [DiscriminatorLossValues(), GeneratorLossValues(), LossesScalarAndDtype(), LossesStable(), LossGradients(),
          Unchanged(),
          TrainStepParameters("train_step_one_call_sgd", "sgd", [0], "One train_step with SGD moves G's and D's "
                              "parameters exactly as the contract's update order does"),
          TrainStepParameters("train_step_two_calls_sgd", "sgd", [1], "Two consecutive train_steps with SGD give "
                              "the reference parameters (nothing leaks between calls)"),
          TrainStepParameters("train_step_adam", "adam", [0, 1], "Two consecutive train_steps with Adam give the "
                              "reference parameters after each call"),
          TrainStepReturns()]
