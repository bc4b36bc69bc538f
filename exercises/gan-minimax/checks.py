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

import math
from typing import Callable

import torch
import torch.nn.functional as F

from grader.checks import (Call, Check, CheckFailure, ObjectRef, Planner, Run, expect_close,
                           expect_scalar_tensor, expect_tensor, expect_unmutated, show_tensor, untrusted)
from grader.harness.objects import mlp
from grader.outputs import TensorValue, type_name
from reference_models import gan as ref

# tolerances (float32 computations; the contract asks for tighter than 1e-3 here)
LOSS_RTOL, LOSS_ATOL = 1e-5, 1e-6
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6
PARAM_RTOL, PARAM_ATOL = 1e-5, 1e-5

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


# ---------------------------------------------------------------------------------------------
# losses: reference and typical bugs (all on float64 copies)
# ---------------------------------------------------------------------------------------------

def _d_ref(r, f):
    return ref.discriminator_loss(r, f)


def _g_ref(f):
    return ref.generator_loss(f)


D_BUGS: dict[str, Callable] = {
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
}

G_BUGS: dict[str, Callable] = {
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
}


def _eval64(fn, *tensors):
    return fn(*(t.detach().double() for t in tensors))


def _known(bugs: dict, *tensors) -> dict:
    return {hint: _eval64(fn, *tensors) for hint, fn in bugs.items()}


def _as_value(got: torch.Tensor) -> torch.Tensor:
    """A one-element result is compared as a number: its shape is losses_scalar_and_dtype's business."""
    return got.reshape(()) if got.numel() == 1 else got


def _check_loss_value(call, expected, known, *, what: str, hint: str | None = None):
    got = _as_value(expect_tensor(call.value(), what=what))
    expect_close(got, expected, what=what, rtol=LOSS_RTOL, atol=LOSS_ATOL, known_bugs=known, hint=hint)


class DiscriminatorLossValues(Check):
    name = "discriminator_loss_values"
    title = "discriminator_loss matches -E[log D(x)] - E[log(1 - D(G(z)))] (batch sizes 1 to 8, real and fake batches of different sizes)"

    SHAPES = [((8,), (8,)), ((1,), (1,)), ((5,), (3,)), ((2,), (7,)), ((4, 1), (6, 1))]

    def plan(self, p):
        cases = []
        for i, (rs, fs) in enumerate(self.SHAPES):
            r, f = p.randn(*rs, std=2.0), p.randn(*fs, std=2.0)
            cases.append((p.call(f"dloss{i}", "discriminator_loss", r, f), r.value, f.value))
        return cases

    def judge(self, run, cases):
        for probe_id, r, f in cases:
            call = run.call(probe_id)
            _check_loss_value(call, _eval64(_d_ref, r, f), _known(D_BUGS, r, f), what=f"`{call.description}`",
                              hint="discriminator_loss(real_logits, fake_logits) = mean(softplus(-real_logits)) + "
                                   "mean(softplus(fake_logits)), each mean over its own batch.")


class GeneratorLossValues(Check):
    name = "generator_loss_values"
    title = "generator_loss matches the non-saturating loss -E[log D(G(z))] (batch sizes 1 to 16)"

    SHAPES = [(8,), (1,), (16,), (5, 1)]

    def plan(self, p):
        cases = []
        for i, shape in enumerate(self.SHAPES):
            f = p.randn(*shape, std=2.0)
            cases.append((p.call(f"gloss{i}", "generator_loss", f), f.value))
        return cases

    def judge(self, run, cases):
        for probe_id, f in cases:
            call = run.call(probe_id)
            _check_loss_value(call, _eval64(_g_ref, f), _known(G_BUGS, f), what=f"`{call.description}`",
                              hint="generator_loss(fake_logits) = mean(softplus(-fake_logits)) = -mean(log D(G(z))).")


class LossesScalarAndDtype(Check):
    name = "losses_scalar_and_dtype"
    title = "Both losses return a 0-dim tensor of the input's dtype (float32 and float64)"

    def plan(self, p):
        cases = []
        for i, dtype in enumerate((torch.float32, torch.float64)):
            r, f = p.randn(4, 1, dtype=dtype), p.randn(3, 1, dtype=dtype)
            g = p.randn(6, 1, dtype=dtype)
            cases.append((p.call(f"dtype_d{i}", "discriminator_loss", r, f), dtype))
            cases.append((p.call(f"dtype_g{i}", "generator_loss", g), dtype))
        return cases

    def judge(self, run, cases):
        for probe_id, dtype in cases:
            call = run.call(probe_id)
            expect_scalar_tensor(call.value(), what=f"`{call.description}`", dtype=dtype)


class LossesStable(Check):
    name = "losses_stable"
    title = "Both losses stay finite and exact for logits from -50 to 50 (float32 and float64)"

    def plan(self, p):
        ramp = torch.linspace(-50.0, 50.0, 11)
        extremes = torch.tensor([-50.0, -30.0, -17.0, 17.0, 30.0, 50.0])
        d_inputs = [(ramp, ramp.flip(0)), (ramp, ramp), (torch.full((4,), 50.0), torch.full((3,), -50.0)),
                    (torch.full((3,), -50.0), torch.full((4,), 50.0)), (extremes, extremes.flip(0)),
                    (ramp.double(), ramp.double().flip(0))]
        g_inputs = [ramp, torch.full((4,), -50.0), torch.full((5,), 50.0), extremes, ramp.double()]
        cases = []
        for i, (r, f) in enumerate(d_inputs):
            r, f = p.add(r), p.add(f)
            cases.append(("d", p.call(f"stable_d{i}", "discriminator_loss", r, f), (r.value, f.value)))
        for i, f in enumerate(g_inputs):
            f = p.add(f)
            cases.append(("g", p.call(f"stable_g{i}", "generator_loss", f), (f.value,)))
        return cases

    def judge(self, run, cases):
        for which, probe_id, inputs in cases:
            call = run.call(probe_id)
            what = f"`{call.description}` with logits " + " and ".join(show_tensor(t, limit=11) for t in inputs)
            got = _as_value(expect_tensor(call.value(), what=what, finite=False))
            if got.is_floating_point() and not bool(torch.isfinite(got).all()):
                expected = _eval64(_d_ref if which == "d" else _g_ref, *inputs).item()
                raise CheckFailure(f"{what}: the loss is not finite.", expected=f"{expected:.7g}", got=show_tensor(got),
                                   hint="sigmoid(50) rounds to exactly 1.0, so log(1 - sigmoid(x)) becomes log(0) "
                                        "= -inf. " + LOSS_HINT)
            fn, bugs = (_d_ref, D_BUGS) if which == "d" else (_g_ref, G_BUGS)
            expect_close(got, _eval64(fn, *inputs), what=what, rtol=LOSS_RTOL, atol=LOSS_ATOL,
                         known_bugs=_known(bugs, *inputs),
                         hint="Torch's log(sigmoid(x)) or clamped probabilities lose exactness at large |x|. "
                              + LOSS_HINT + " If the loss-value checks fail too, fix those first.")


class LossGradients(Check):
    name = "loss_gradients"
    title = "Gradients of both losses with respect to the logits match the reference"

    def plan(self, p):
        r, f = p.randn(7, std=3.0), p.randn(5, std=3.0)
        g = p.randn(6, std=3.0)
        p.probe("grad_d", [Call(fn="discriminator_loss", args=(r, f), grad_wrt=(0, 1))])
        p.probe("grad_g", [Call(fn="generator_loss", args=(g,), grad_wrt=(0,))])
        return {"d": (r.value, f.value), "g": (g.value,)}

    @staticmethod
    def _grads(fn, inputs):
        leaves = [t.detach().double().requires_grad_(True) for t in inputs]
        grads = torch.autograd.grad(fn(*leaves), leaves, allow_unused=True)
        return [torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads)]

    def judge(self, run, planned):
        for probe_id, fn, bugs, names in [("grad_d", _d_ref, D_BUGS, ("real_logits", "fake_logits")),
                                          ("grad_g", _g_ref, G_BUGS, ("fake_logits",))]:
            inputs = planned[probe_id[-1]]
            call = run.call(probe_id)
            expected = self._grads(fn, inputs)
            known = {hint: self._grads(bug, inputs) for hint, bug in bugs.items()}
            for i, name in enumerate(names):
                grad = call.grad(i)
                if grad is None:
                    raise CheckFailure(
                        f"No gradient reached `{name}` through `{call.description}`.",
                        expected=show_tensor(expected[i]), got="no gradient",
                        hint="The loss must be differentiable with respect to the logits: do not use `.item()`, "
                             "`.detach()`, `torch.no_grad()` or `torch.tensor(...)` on the way to the result.")
                expect_close(grad, expected[i], what=f"d loss / d {name} for `{call.description}`",
                             rtol=GRAD_RTOL, atol=GRAD_ATOL, known_bugs={h: g[i] for h, g in known.items()},
                             hint=("d/dx softplus(-x) = sigmoid(x) - 1 and d/dx softplus(x) = sigmoid(x), each "
                                   "divided by its batch size. If the loss-value checks fail too, fix those first."))


class InputsUnchanged(Check):
    name = "inputs_unchanged"
    title = "Neither the losses nor train_step modify their input tensors in place"

    def plan(self, p):
        r, f, g = p.randn(6), p.randn(4), p.randn(5)
        p.call("inplace_d", "discriminator_loss", r, f)
        p.call("inplace_g", "generator_loss", g)
        _sgd_plan(p)
        return None

    def judge(self, run, planned):
        expect_unmutated(run.call("inplace_d"), {0: "real_logits", 1: "fake_logits"})
        expect_unmutated(run.call("inplace_g"), {0: "fake_logits"})
        expect_unmutated(run.call("sgd_steps", 0, allow_error=True), {4: "real", 5: "z"})


# ---------------------------------------------------------------------------------------------
# train_step: reference, known-buggy variants, probes
# ---------------------------------------------------------------------------------------------

def _correct_with(d_loss_fn, g_loss_fn):
    """The contract's train_step, with other loss functions (to simulate a loss bug inside train_step)."""

    def step(G, D, opt_G, opt_D, real, z):
        opt_D.zero_grad()
        fake = G(z)
        d_loss = d_loss_fn(D(real), D(fake.detach()))
        d_loss.backward()
        opt_D.step()
        opt_G.zero_grad()
        g_loss = g_loss_fn(D(fake))
        g_loss.backward()
        opt_G.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}

    return step


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
    for p, g in zip(G.parameters(), g_grads):
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


def _variant(*, detach=True, zero_d="start", zero_g="step2", d_steps=1, g_loss_detached=False, d_step_in_step2=False):
    """A train_step with one deviation from the contract (zero_*: "start", "step2", "after_step" or None)."""

    def step(G, D, opt_G, opt_D, real, z):
        if zero_d == "start":
            opt_D.zero_grad()
        if zero_g == "start":
            opt_G.zero_grad()
        fake = G(z)
        d_loss = ref.discriminator_loss(D(real), D(fake.detach() if detach else fake))
        d_loss.backward(retain_graph=not detach)
        for _ in range(d_steps):
            opt_D.step()
        if zero_d == "after_step":
            opt_D.zero_grad()
        if zero_g == "step2":
            opt_G.zero_grad()
        g_loss = ref.generator_loss(D(fake.detach() if g_loss_detached else fake))
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
for _hint, _fn in list(D_BUGS.items())[:5]:
    VARIANTS.append(("The parameters match a train_step whose discriminator_loss has this bug: " + _hint
                     + _LOSSES_FIRST, _correct_with(_fn, ref.generator_loss)))
for _hint, _fn in G_BUGS.items():
    VARIANTS.append(("The parameters match a train_step whose generator_loss has this bug: " + _hint
                     + _LOSSES_FIRST, _correct_with(ref.discriminator_loss, _fn)))
VARIANTS.append(("The parameters match a train_step whose losses are sums over the batch: take the mean over each "
                 "batch, not the sum." + _LOSSES_FIRST,
                 _correct_with(lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
                               lambda f: F.softplus(-f).sum())))


def _random_state(p: Planner, spec: dict) -> dict[str, torch.Tensor]:
    """PyTorch's default Linear init (uniform, bound 1/sqrt(fan_in)), drawn from the grading's generator."""
    net = mlp(spec["sizes"], spec["activation"], spec["out_activation"])
    state = {}
    for name, t in net.state_dict().items():
        fan_in = t.shape[1] if t.dim() == 2 else None
        if fan_in is None:  # a bias: fan_in of its weight
            fan_in = net.state_dict()[name.replace("bias", "weight")].shape[1]
        bound = 1.0 / math.sqrt(fan_in)
        u = torch.rand(t.shape, generator=p.generator, dtype=torch.float64) * 2 - 1
        state[name] = (u * bound).to(torch.float32)
    return state


def _plan_steps(p: Planner, kind: str, batch: int) -> dict:
    g_state, d_state = _random_state(p, G_SPEC), _random_state(p, D_SPEC)
    batches = [(p.randn(batch, X_DIM), p.randn(batch, Z_DIM)) for _ in range(2)]
    options = OPTIMIZERS[kind]["options"]
    objects = {
        "G": {"type": "mlp", **G_SPEC, "state": g_state},
        "D": {"type": "mlp", **D_SPEC, "state": d_state},
        "opt_G": {"type": kind, "params_of": "G", "options": options},
        "opt_D": {"type": kind, "params_of": "D", "options": options},
    }
    nets = tuple(ObjectRef(n) for n in ("G", "D", "opt_G", "opt_D"))
    calls = [Call(fn="train_step", args=(*nets, real, z), record_state=("G", "D")) for real, z in batches]
    probe_id = p.probe(f"{kind}_steps", calls, objects=objects)
    return {"probe": probe_id, "kind": kind, "g_state": g_state, "d_state": d_state,
            "batches": [(r.value, z.value) for r, z in batches], "batch": batch}


def _sgd_plan(p: Planner) -> dict:
    return p.shared("sgd_steps", lambda q: _plan_steps(q, "sgd", 6))


def _adam_plan(p: Planner) -> dict:
    return p.shared("adam_steps", lambda q: _plan_steps(q, "adam", 5))


def simulate(step: Callable, planned: dict) -> list[dict]:
    """Run a train_step on the trusted side from the probe's initial weights: state and losses after each call."""
    G = mlp(G_SPEC["sizes"], G_SPEC["activation"], G_SPEC["out_activation"])
    D = mlp(D_SPEC["sizes"], D_SPEC["activation"], D_SPEC["out_activation"])
    G.load_state_dict(planned["g_state"])
    D.load_state_dict(planned["d_state"])
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in OPTIMIZERS[planned["kind"]]["options"].items()}
    opt = torch.optim.SGD if planned["kind"] == "sgd" else torch.optim.Adam
    opt_G, opt_D = opt(G.parameters(), **options), opt(D.parameters(), **options)
    out = []
    for real, z in planned["batches"]:
        losses = step(G, D, opt_G, opt_D, real.clone(), z.clone())
        out.append({"G": {k: v.detach().clone() for k, v in G.state_dict().items()},
                    "D": {k: v.detach().clone() for k, v in D.state_dict().items()},
                    "losses": losses})
    return out


def _simulations(planned: dict) -> tuple[list[dict], list[tuple[str, list[dict]]]]:
    if "_sims" not in planned:  # cached: several checks judge the same probe
        variants = []
        for hint, step in VARIANTS:
            try:
                variants.append((hint, simulate(step, planned)))
            except RuntimeError:  # a variant that cannot run on these inputs names no bug
                pass
        planned["_sims"] = (simulate(ref.train_step, planned), variants)
    return planned["_sims"]


def _student_states(run: Run, planned: dict, n_calls: int) -> tuple[list[dict], str]:
    states = []
    for i in range(n_calls):
        call = run.call(planned["probe"], i)
        states.append({"G": call.state("G"), "D": call.state("D")})
    return states, call.description


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> torch.Tensor:
    a64, b64 = a.double(), b.double()
    return (a64 - b64).abs() <= atol + rtol * b64.abs()


def _mismatches(got: dict, expected: dict, rtol=PARAM_RTOL, atol=PARAM_ATOL) -> list[tuple[str, str, int, int]]:
    """(net, param name, number of bad values, total) for every parameter that differs."""
    bad = []
    for net in ("D", "G"):
        for name, e in expected[net].items():
            g = got[net].get(name)
            if g is None or g.shape != e.shape:
                bad.append((net, name, e.numel(), e.numel()))
                continue
            n = int((~_close(g, e, rtol, atol)).sum())
            if n:
                bad.append((net, name, n, e.numel()))
    return bad


def _matching_variant(got_states: list[dict], reference: list[dict], variants, indices: list[int]) -> str | None:
    """The hint of the first known-buggy variant that differs from the reference and matches the student."""
    for hint, states in variants:
        if not any(_mismatches(states[i], reference[i]) for i in indices):
            continue  # indistinguishable from the reference on these calls
        if all(not _mismatches(got_states[i], states[i], rtol=1e-4, atol=1e-4) for i in indices):
            return hint
    return None


def _describe_param(net: str, name: str, got: dict, expected: dict) -> tuple[str, str, str]:
    e = expected[net][name]
    g = got[net].get(name)
    if g is None or g.shape != e.shape:
        return f"{net}'s `{name}` is missing or has the wrong shape", show_tensor(e), "missing" if g is None else show_tensor(g)
    bad = (~_close(g, e, PARAM_RTOL, PARAM_ATOL)).nonzero()[0]
    index = tuple(int(i) for i in bad)
    return (f"the first: {net}'s `{name}` at index {list(index)}: expected {e[index].item():.7g}, "
            f"got {g[index].item():.7g}", show_tensor(e), show_tensor(g))


def _compare_steps(run: Run, planned: dict, indices: list[int]) -> None:
    """Fail unless the student's G and D after each call in `indices` match the reference train_step."""
    n_calls = max(indices) + 1
    got, description = _student_states(run, planned, n_calls)
    reference, variants = _simulations(planned)
    for i in indices:
        bad = _mismatches(got[i], reference[i])
        if not bad:
            continue
        nets = sorted({net for net, *_ in bad})
        count = sum(n for _, _, n, _ in bad)
        total = sum(t.numel() for net in ("D", "G") for t in reference[i][net].values())
        detail, expected, got_text = _describe_param(bad[0][0], bad[0][1], got[i], reference[i])
        calls = "one call" if i == 0 else f"{i + 1} consecutive calls"
        hint = _matching_variant(got, reference, variants, list(range(i + 1))) or _generic_hint(got, reference, i, nets)
        raise CheckFailure(
            f"After {calls} of `{description}` (G: MLP {G_SPEC['sizes']} with tanh output, D: MLP {D_SPEC['sizes']}, "
            f"both optimizers {OPTIMIZERS[planned['kind']]['describe']}, batch size {planned['batch']}, fixed "
            f"initial weights), {count} of {total} parameter values of {' and '.join(nets)} differ from what the "
            f"contract's train_step gives on the same weights and inputs (tolerance: rtol {PARAM_RTOL:g}, atol "
            f"{PARAM_ATOL:g}); {detail}.",
            expected=expected, got=got_text, hint=hint)


def _generic_hint(got: list[dict], reference: list[dict], i: int, nets: list[str]) -> str:
    earlier_ok = i > 0 and not any(_mismatches(got[j], reference[j]) for j in range(i))
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


class TrainStepOneCallSGD(Check):
    name = "train_step_one_call_sgd"
    title = "One train_step with SGD moves G's and D's parameters exactly as the contract's update order does"

    def plan(self, p):
        return _sgd_plan(p)

    def judge(self, run, planned):
        _compare_steps(run, planned, [0])


class TrainStepTwoCallsSGD(Check):
    name = "train_step_two_calls_sgd"
    title = "Two consecutive train_steps with SGD give the reference parameters (nothing leaks between calls)"

    def plan(self, p):
        return _sgd_plan(p)

    def judge(self, run, planned):
        _compare_steps(run, planned, [1])


class TrainStepAdam(Check):
    name = "train_step_adam"
    title = "Two consecutive train_steps with Adam give the reference parameters after each call"

    def plan(self, p):
        return _adam_plan(p)

    def judge(self, run, planned):
        _compare_steps(run, planned, [0, 1])


class TrainStepReturns(Check):
    name = "train_step_returns"
    title = 'train_step returns {"d_loss": float, "g_loss": float}: the two losses as Python floats'

    def plan(self, p):
        return _sgd_plan(p)

    def judge(self, run, planned):
        reference, variants = _simulations(planned)
        for i in range(len(planned["batches"])):
            call = run.call(planned["probe"], i)
            what = f"The value returned by `{call.description}` (call {i + 1} of {len(planned['batches'])})"
            value = call.value()
            if not isinstance(value, dict):
                raise CheckFailure(f"{what} is not a dict.", expected='{"d_loss": <float>, "g_loss": <float>}',
                                   got=type_name(value),
                                   hint='End train_step with `return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}`.')
            if set(value) != {"d_loss", "g_loss"}:
                raise CheckFailure(f"{what} has the wrong keys.", expected='exactly the keys "d_loss" and "g_loss"',
                                   got="keys " + ", ".join(untrusted(repr(k)) for k in value),
                                   hint='Return exactly `{"d_loss": d_loss.item(), "g_loss": g_loss.item()}`.')
            for key in ("d_loss", "g_loss"):
                v = value[key]
                if isinstance(v, TensorValue):
                    raise CheckFailure(
                        f'{what}: "{key}" is a tensor, not a Python float.', expected="a Python float",
                        got=f"a tensor of shape {tuple(v.data.shape)}" + (" that requires grad" if v.requires_grad else ""),
                        hint=f"Return `{key}.item()`: a tensor keeps its autograd graph alive, and logging code "
                             "expects plain numbers.")
                if isinstance(v, str) and v in ("nan", "inf", "-inf"):
                    raise CheckFailure(f'{what}: "{key}" is {v}.', expected="a finite float", got=v,
                                       hint="The loss is not finite: check the loss functions' stability.")
                if not isinstance(v, float) or isinstance(v, bool):
                    raise CheckFailure(f'{what}: "{key}" is not a Python float.', expected="a Python float",
                                       got=type_name(v), hint=f"Return `{key}.item()`.")
            for key in ("d_loss", "g_loss"):
                expected = reference[i]["losses"][key]
                got = value[key]
                if abs(got - expected) <= LOSS_ATOL + LOSS_RTOL * abs(expected):
                    continue
                other = "g_loss" if key == "d_loss" else "d_loss"
                hint = None
                if abs(got - reference[i]["losses"][other]) <= LOSS_ATOL + LOSS_RTOL * abs(reference[i]["losses"][other]):
                    hint = f'You returned the {other} value under "{key}": the keys are swapped.'
                for bug_hint, states in variants:
                    b = states[i]["losses"][key]
                    differs = abs(b - expected) > LOSS_ATOL + LOSS_RTOL * abs(expected)
                    if hint is None and differs and abs(got - b) <= 1e-4 + 1e-4 * abs(b):
                        hint = bug_hint
                if hint is None:
                    hint = (f"Return the {'discriminator' if key == 'd_loss' else 'generator'} loss exactly as "
                            f"computed in step {1 if key == 'd_loss' else 2} of this call"
                            + (" (the generator's loss uses D after opt_D.step())" if key == "g_loss" else "")
                            + ". If the parameter checks fail too, fix those first.")
                raise CheckFailure(f'{what}: "{key}" differs from the reference (tolerance: rtol {LOSS_RTOL:g}, '
                                   f"atol {LOSS_ATOL:g}).", expected=f"{expected:.7g}", got=f"{got:.7g}", hint=hint)


CHECKS = [DiscriminatorLossValues(), GeneratorLossValues(), LossesScalarAndDtype(), LossesStable(), LossGradients(),
          InputsUnchanged(), TrainStepOneCallSGD(), TrainStepTwoCallsSGD(), TrainStepAdam(), TrainStepReturns()]
