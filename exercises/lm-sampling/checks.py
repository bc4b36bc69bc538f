"""Checks for the next-token loss and decoding (temperature, top-k, nucleus, greedy, generate).

Expected values come from `reference_models.lm_sampling` in float64 on the very inputs the
submission received; the loss to rtol 1e-4 / atol 1e-5 in float32 and 1e-9 in float64.

Sampling is judged by frequencies against the exact filtered distribution (`filtered_probs`):
each distribution is drawn N = 20,000 times (one row each) and the Kolmogorov-Smirnov distance
between the empirical and the exact CDF over the token indices must stay within the
Dvoretzky-Kiefer-Wolfowitz-Massart bound sqrt(ln(2 / p) / (2 N)) (it holds for every N and, for a
discrete distribution, conservatively). p is 1e-6 divided by the number of distributions of the
check (Bonferroni), so each check fails a correct submission with probability at most 1e-6. A
token of exact probability 0 must never be drawn (no bound needed). Logits are drawn from the
grading's generator and redrawn until, as the contract promises, no cut has ties (a gap of at
least 1e-3 between the k-th and (k+1)-th logit) and no partial sum of the sorted probabilities
is within 1e-3 of top_p; greedy decoding against the grader's model is planned only along
trajectories whose top-two logits differ by at least 1e-3, so float32 rounding cannot flip them.
Nothing here is fitted to the files in wrong/.
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
    Gradients,
    InputsUnchanged,
    KnownBugs,
    ObjectRef,
    Planner,
    Tol,
    dkw_bound,
    expect_tensor,
    independence_test,
    show_tensor,
)
from grader.harness.objects import network
from reference_models import lm_sampling as ref

F32, F64 = torch.float32, torch.float64
TOL = {F32: Tol(1e-4, 1e-5), F64: Tol(1e-9, 1e-12)}
P, N, V = 1e-6, 20_000, 8
MARGIN = 1e-3


# ---------------------------------------------------------------------------------------------------------------
# the loss


def _loss(logits, tokens, ignore_index=-100, *, shift=1, per_sequence=False, all_count=False, mask_inputs=False):
    pred, target = (logits[:, :-1], tokens[:, 1:]) if shift == 1 else (logits[:, 1:], tokens[:, :-1]) \
        if shift == -1 else (logits, tokens)
    valid = (tokens[:, :-1] if mask_inputs else target) != ignore_index
    ce = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.clamp(min=0).reshape(-1), reduction="none")
    ce = (ce.view(target.shape) * valid).to(logits.dtype)
    if per_sequence:
        return (ce.sum(1) / valid.sum(1)).mean()
    return ce.sum() / (valid.numel() if all_count else valid.sum())


LOSS_BUGS = KnownBugs({
    "Shift the targets: position i predicts token i + 1, so compare logits[:, :-1] with tokens[:, 1:].":
        lambda *a, **k: _loss(*a, **k, shift=0),
    "The shift goes the other way: logits[:, :-1] against tokens[:, 1:].": lambda *a, **k: _loss(*a, **k, shift=-1),
    "Average over all counted targets of the batch (their sum divided by their count), not the mean of "
    "per-sequence means.": lambda *a, **k: _loss(*a, **k, per_sequence=True),
    "Ignored targets must not count in the denominator: divide by the number of targets != ignore_index.":
        lambda *a, **k: _loss(*a, **k, all_count=True),
    "The mask must come from the targets tokens[:, 1:], not from the inputs tokens[:, :-1].":
        lambda *a, **k: _loss(*a, **k, mask_inputs=True),
})


def _loss_inputs(p: Planner, case):
    (B, L, vocab), dtype, ignore = case.shape, case.dtype, case.kwargs.get("ignore_index", -100)
    logits = p.randn(B, L, vocab, dtype=dtype, std=2.0)
    tokens = torch.randint(0, vocab, (B, L), generator=p.generator)
    drop = torch.rand(B, L, generator=p.generator) < 0.3
    drop[0, 1] = False  # at least one target counts
    tokens[drop] = ignore  # ignored targets (and inputs: the first column is never a target)
    return logits, p.add(tokens)


LOSS_CASES = [Case(s, d, k) for s, d, k in [((4, 7, 11), F32, {}), ((3, 5, 6), F64, {}),
                                            ((5, 9, 13), F32, {"ignore_index": 0}),
                                            ((1, 2, 4), F64, {"ignore_index": 3}), ((8, 16, 50), F32, {})]]


class LossValues(Differential):
    name, fn, scalar, bugs = "loss_values", "next_token_loss", True, LOSS_BUGS
    title = ("next_token_loss: cross-entropy of logits[:, :-1] against tokens[:, 1:], averaged over the targets "
             "!= ignore_index (default and other ignore_index)")
    tolerances = TOL
    reference = staticmethod(ref.next_token_loss)
    cases = LOSS_CASES

    def inputs(self, p, case):
        return _loss_inputs(p, case)


class LossGradients(Gradients):
    name, fn = "loss_gradients", "next_token_loss"
    title = "d next_token_loss / d logits (zero at the last position and at ignored targets)"
    tolerances = {F32: Tol(1e-4, 1e-6), F64: Tol(1e-9, 1e-12)}
    reference = staticmethod(ref.next_token_loss)
    wrt = (0,)
    cases = LOSS_CASES[:3]

    def inputs(self, p, case):
        return _loss_inputs(p, case)


# ---------------------------------------------------------------------------------------------------------------
# sampling: a case is (temperature, top_k, top_p, number of distinct distributions)


def _ok(logits: torch.Tensor, temperature: float, top_k, top_p) -> bool:
    """The contract's promise: no ties at a cut, no partial sum within MARGIN of top_p."""
    ordered = logits.sort(-1, descending=True).values
    gaps = (ordered[:, :-1] - ordered[:, 1:]) / max(temperature, 1e-9)
    if top_k is not None and top_k < logits.shape[-1] and bool((gaps[:, top_k - 1] < MARGIN).any()):
        return False
    if top_p is not None:
        probs = ref.filtered_probs(logits, temperature, top_k, None).sort(-1, descending=True).values
        if bool(((probs.cumsum(-1)[:, :-1] - top_p).abs() < MARGIN).any()):  # the mass before each token
            return False
        kept = ref.filtered_probs(logits, temperature, top_k, top_p) > 0
        if bool((kept.sum(-1) < 2).any()):  # the crossing token must be one we can see
            return False
    return True


def draw_logits(p: Planner, rows: int, temperature: float, top_k, top_p, dtype=F32) -> torch.Tensor:
    while True:
        logits = (torch.randn(rows, V, generator=p.generator, dtype=F64) * 1.5).to(dtype)
        if _ok(logits.double(), temperature, top_k, top_p):
            return logits


def sampling_kwargs(temperature, top_k, top_p) -> dict:
    kwargs = {"temperature": temperature}
    if top_k is not None:
        kwargs["top_k"] = top_k
    if top_p is not None:
        kwargs["top_p"] = top_p
    return kwargs


def describe(kwargs: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items())


def judge_frequencies(got: torch.Tensor, probs: torch.Tensor, n: int, p: float, what: str) -> None:
    """got: (R * n,) draws, n consecutive rows per distribution of probs (R, V)."""
    if bool(((got < 0) | (got >= probs.shape[-1])).any()):
        raise CheckFailure(f"{what}: a token index outside [0, V).", got=show_tensor(got))
    bound = dkw_bound(n, p / probs.shape[0])
    for r in range(probs.shape[0]):
        counts = torch.bincount(got[r * n:(r + 1) * n], minlength=probs.shape[-1]).double()
        drawn_impossible = (counts > 0) & (probs[r] == 0)
        freq = counts / n
        shown = (f"exact {show_tensor(probs[r], limit=V)}", f"frequencies {show_tensor(freq, limit=V)}")
        if bool(drawn_impossible.any()):
            k = int(drawn_impossible.nonzero()[0])
            raise CheckFailure(f"{what}, distribution {r}: token {k} was drawn {int(counts[k])} times, but its "
                               "probability after the filtering is 0.", expected=shown[0], got=shown[1],
                               hint=_filter_hint(probs[r], freq))
        distance = float((freq.cumsum(0) - probs[r].cumsum(0)).abs().max())
        if distance > bound:
            raise CheckFailure(f"{what}, distribution {r}: the frequencies of {n} draws are {distance:.4f} from the "
                               f"exact distribution (Kolmogorov-Smirnov; the bound is {bound:.4f}).",
                               expected=shown[0], got=shown[1], hint=_filter_hint(probs[r], freq))


def _filter_hint(probs: torch.Tensor, freq: torch.Tensor) -> str:
    never = (freq == 0) & (probs > 0.02)
    if bool(never.any()):
        return (f"Token {int(never.nonzero()[0])} (probability {probs[never][0].item():.3f}) was never drawn: your "
                "filter removes too much. With top_p, keep every token whose mass *before* it is < top_p, so the "
                "token that crosses top_p stays; with top_k keep every logit >= the k-th largest.")
    return ("Draw from softmax(logits / temperature), restricted to the top_k largest logits, then to the nucleus "
            "of what is left (renormalised), and renormalise what is kept.")


class Frequencies(Check):
    """Each case: `rows` distributions, N draws each (one row per draw), against filtered_probs."""

    cases: list = []

    def plan(self, p):
        planned = []
        for i, (temperature, top_k, top_p, rows) in enumerate(self.cases):
            logits = draw_logits(p, rows, temperature, top_k, top_p)
            kwargs = sampling_kwargs(temperature, top_k, top_p)
            ref_logits = p.add(logits.repeat_interleave(N, dim=0))
            probe = p.probe(f"{self.name}{i}", [Call(fn="sample_next_token", args=(ref_logits,), kwargs=kwargs,
                                                     seed=p.next_seed())])
            planned.append((probe, logits, kwargs))
        return planned

    def judge(self, run, planned):
        for probe, logits, kwargs in planned:
            call = run.call(probe)
            what = f"sample_next_token({N} rows of each of {logits.shape[0]} distributions, {describe(kwargs)})"
            got = expect_tensor(call.value(), what=what, shape=(logits.shape[0] * N,), dtype=torch.int64,
                                shape_hint="Return one token per row: shape (B,).")
            judge_frequencies(got, ref.filtered_probs(logits.double(), **kwargs), N, P / len(planned), what)


class Temperature(Frequencies):
    name = "sample_temperature"
    title = "sample_next_token draws from softmax(logits / temperature) (temperature 1, 0.5, 2, 0.05; 20,000 draws)"
    cases = [(1.0, None, None, 2), (0.5, None, None, 2), (2.0, None, None, 1), (0.05, None, None, 1)]


class TopK(Frequencies):
    name = "sample_top_k"
    title = "top_k keeps the k largest logits (k = 3, 5 with temperature 0.7, k >= V keeps all), renormalised"
    cases = [(1.0, 3, None, 2), (0.7, 5, None, 1), (1.0, V, None, 1), (1.0, V + 3, None, 1)]


class TopP(Frequencies):
    name = "sample_top_p"
    title = ("top_p keeps the nucleus, including the token that crosses top_p (top_p 0.5, 0.8, 0.95, 1, and after "
             "top_k)")
    cases = [(1.0, None, 0.5, 2), (1.0, None, 0.8, 1), (0.8, None, 0.95, 1), (1.0, None, 1.0, 1), (1.2, 5, 0.7, 2)]


class Greedy(Check):
    name = "greedy"
    title = ("temperature 0 is argmax (the first index on ties) and draws no random numbers; top_k = 1 is argmax "
             "too")

    def plan(self, p):
        untied = draw_logits(p, 12, 1.0, 1, None, dtype=F64).to(F32)
        logits = untied.clone()
        logits[0, 2] = logits[0, 5] = logits[0].max() + 1  # a tie at the maximum (never for top_k: a cut)
        logits64 = draw_logits(p, 5, 1.0, 1, None, dtype=F64)
        seed = p.next_seed()
        probes = [(p.probe("greedy0", [Call(fn="sample_next_token", args=(p.add(logits),), kwargs={"temperature": 0.0},
                                            seed=seed, draw_after=16)]), logits, "temperature=0.0"),
                  (p.probe("greedy1", [Call(fn="sample_next_token", args=(p.add(logits64), 0.0))]), logits64,
                   "temperature 0 (positional)"),
                  (p.probe("greedy2", [Call(fn="sample_next_token", args=(p.add(untied),), kwargs={"top_k": 1})]),
                   untied, "top_k=1")]
        return probes, seed

    def judge(self, run, planned):
        probes, seed = planned
        for probe, logits, how in probes:
            call = run.call(probe)
            what = f"sample_next_token({logits.shape[0]} rows, {how})"
            got = expect_tensor(call.value(), what=what, shape=(logits.shape[0],), dtype=torch.int64)
            expected = logits.argmax(-1)
            if not torch.equal(got, expected):
                row = int((got != expected).nonzero()[0])
                hint = ("On ties, greedy decoding takes the first index, as `torch.argmax` does."
                        if row == 0 and int(got[0]) == 5 else "Greedy decoding returns logits.argmax(-1) per row.")
                raise CheckFailure(f"{what}: row {row} is not the argmax.", expected=show_tensor(expected),
                                   got=show_tensor(got), hint=hint)
            if probe == "greedy0":
                fresh = torch.rand(16, dtype=F64, generator=torch.Generator().manual_seed(seed))
                if not torch.equal(call.drawn_after(), fresh):
                    raise CheckFailure(f"{what} drew random numbers from torch's global generator (or reseeded it).",
                                       hint="temperature == 0 is greedy: return the argmax without sampling.")


class Reproducible(Check):
    name = "reproducible"
    title = ("the same seeded generator gives the same tokens, another seed other tokens; with a generator, torch's "
             "global generator is untouched; without one, torch.manual_seed reproduces the draws")

    def plan(self, p):
        logits = p.add(draw_logits(p, 1, 1.0, None, None).expand(2000, V))
        s1, s2, g = p.next_seed(), p.next_seed(), p.next_seed()
        objects = {"a": {"type": "generator", "seed": s1}, "b": {"type": "generator", "seed": s1},
                   "c": {"type": "generator", "seed": s2}}
        with_gen = [Call(fn="sample_next_token", args=(logits,), kwargs={"generator": ObjectRef(k)},
                         seed=g if k == "a" else None, draw_after=16 if k == "a" else 0) for k in "abc"]
        p.probe("rep_generator", with_gen, objects=objects)
        p.probe("rep_global", [Call(fn="sample_next_token", args=(logits,), seed=s) for s in (s1, s1, s2)])
        return g

    def judge(self, run, g):
        a, b, c = (expect_tensor(run.call("rep_generator", i).value(), what="sample_next_token with a generator",
                                 shape=(2000,), dtype=torch.int64) for i in range(3))
        if not torch.equal(a, b):
            raise CheckFailure("Two generators with the same seed gave different tokens.",
                               hint="Draw from the `generator` argument when one is given: "
                                    "`torch.multinomial(probs, 1, generator=generator)`.")
        if torch.equal(a, c):
            raise CheckFailure("Generators with different seeds gave the same 2,000 tokens.",
                               hint="Draw from the `generator` you were given, not from a generator of your own.")
        fresh = torch.rand(16, dtype=F64, generator=torch.Generator().manual_seed(g))
        if not torch.equal(run.call("rep_generator", 0).drawn_after(), fresh):
            raise CheckFailure("With a generator given, sample_next_token drew from (or reseeded) torch's global "
                               "generator.", hint="Pass `generator=generator` to every random call.")
        x, y, z = (expect_tensor(run.call("rep_global", i).value(), what="sample_next_token without a generator",
                                 shape=(2000,), dtype=torch.int64) for i in range(3))
        if not torch.equal(x, y) or torch.equal(x, z):
            raise CheckFailure("Without a generator, the same torch.manual_seed must give the same tokens and another "
                               "seed other tokens.", hint="Draw from torch's global generator and never reseed it.")


class RowsIndependent(Check):
    name = "rows_independent"
    title = "rows are drawn independently: neighbouring rows of one distribution are uncorrelated (20,000 pairs)"

    def plan(self, p):
        logits = draw_logits(p, 1, 1.0, None, None)
        return p.probe("independent", [Call(fn="sample_next_token", args=(p.add(logits.expand(2 * N, V)),),
                                            seed=p.next_seed())]), logits

    def judge(self, run, planned):
        probe, logits = planned
        call = run.call(probe)
        got = expect_tensor(call.value(), what="sample_next_token(40,000 equal rows)", shape=(2 * N,),
                            dtype=torch.int64).double()
        test = independence_test(got[0::2], got[1::2], P)
        if test.failed:
            raise CheckFailure(f"Neighbouring rows' tokens are correlated (r = {test.statistic:.3f}, bound "
                               f"{test.bound:.3f} for independent rows).",
                               hint="Draw each row with its own random number: `torch.multinomial(probs, 1)` on the "
                                    "(B, V) probabilities, not one uniform shared by the batch.")


# ---------------------------------------------------------------------------------------------------------------
# generate with the grader's causal model


def lm_spec(p: Planner) -> dict:
    spec = {"type": "causal_lm", "vocab": 6, "hidden": [16], "activation": "tanh"}
    state = {}
    for name, w in network(spec).state_dict().items():
        state[name] = ((torch.rand(w.shape, generator=p.generator, dtype=F64) * 2 - 1) * 1.5).to(F32)
    return {**spec, "state": state}


def lm64(spec: dict):
    net = network({**spec, "dtype": "float64"})
    net.load_state_dict({k: v.double() for k, v in spec["state"].items()})
    return net


def _greedy_margin(model, prompt: torch.Tensor, n: int) -> bool:
    seq = prompt
    for _ in range(n):
        top = model(seq)[:, -1].topk(2, dim=-1).values
        if bool((top[:, 0] - top[:, 1] < MARGIN).any()):
            return False
        seq = torch.cat([seq, model(seq)[:, -1].argmax(-1, keepdim=True)], 1)
    return True


class GenerateGreedy(Check):
    name = "generate_greedy"
    title = ("generate with temperature 0 and with top_k = 1: the prompt, then max_new_tokens argmax tokens of the "
             "whole sequence so far (also max_new_tokens = 0)")

    def plan(self, p):
        while True:
            spec = lm_spec(p)
            prompt = torch.randint(0, 6, (5, 3), generator=p.generator)
            with torch.no_grad():
                if _greedy_margin(lm64(spec), prompt, 7):
                    break
        ref_prompt = p.add(prompt)
        calls = [Call(fn="generate", args=(ObjectRef("lm"), ref_prompt, 7), kwargs={"temperature": 0.0}),
                 Call(fn="generate", args=(ObjectRef("lm"), ref_prompt, 4), kwargs={"top_k": 1}),
                 Call(fn="generate", args=(ObjectRef("lm"), ref_prompt, 0), kwargs={"temperature": 0.0})]
        return p.probe("generate_greedy", calls, objects={"lm": spec}), spec, prompt

    def judge(self, run, planned):
        probe, spec, prompt = planned
        with torch.no_grad():
            full = ref.generate(lm64(spec), prompt, 7, temperature=0.0)
        for i, (n, how) in enumerate([(7, "temperature=0.0"), (4, "top_k=1"), (0, "temperature=0.0")]):
            call = run.call(probe, i)
            what = f"generate(model, prompt of shape {tuple(prompt.shape)}, {n}, {how})"
            got = expect_tensor(call.value(), what=what, shape=(5, 3 + n), dtype=torch.int64)
            if not torch.equal(got, full[:, :3 + n]):
                hint = ("The result starts with the prompt." if not torch.equal(got[:, :3], prompt) else
                        "Each new token comes from model(seq)[:, -1], the logits of the last position of the whole "
                        "sequence so far (prompt and the tokens generated), appended before the next step.")
                raise CheckFailure(f"{what}: not the greedy continuation.", expected=show_tensor(full[:, :3 + n]),
                                   got=show_tensor(got), hint=hint)


class GenerateSampling(Check):
    name = "generate_sampling"
    title = ("generate samples each token from the model's last position (temperature 0.8, top_k 4): the joint "
             "frequencies of two new tokens over 20,000 sequences")

    def plan(self, p):
        kwargs = {"temperature": 0.8, "top_k": 4}
        while True:
            spec = lm_spec(p)
            prompt = torch.randint(0, 6, (1, 3), generator=p.generator)
            with torch.no_grad():
                model = lm64(spec)
                contexts = torch.cat([prompt.expand(6, 3), torch.arange(6)[:, None]], 1)
                if _ok(model(prompt)[:, -1], 0.8, 4, None) and _ok(model(contexts)[:, -1], 0.8, 4, None):
                    break
        call = Call(fn="generate", args=(ObjectRef("lm"), p.add(prompt.expand(N, 3)), 2), kwargs=kwargs,
                    seed=p.next_seed())
        return p.probe("generate_sampling", [call], objects={"lm": spec}), spec, prompt, kwargs

    def judge(self, run, planned):
        probe, spec, prompt, kwargs = planned
        call = run.call(probe)
        what = f"generate(model, {N} copies of a prompt of length 3, 2, {describe(kwargs)})"
        got = expect_tensor(call.value(), what=what, shape=(N, 5), dtype=torch.int64)
        if not bool((got[:, :3] == prompt).all()):
            raise CheckFailure(f"{what}: the result must start with the prompt.")
        with torch.no_grad():
            model = lm64(spec)
            first = ref.filtered_probs(model(prompt)[:, -1], **kwargs)[0]  # (6,)
            contexts = torch.cat([prompt.expand(6, 3), torch.arange(6)[:, None]], 1)
            second = ref.filtered_probs(model(contexts)[:, -1], **kwargs)  # (6, 6): row a is p(b | a)
        joint = (first[:, None] * second).reshape(1, -1)
        judge_frequencies(got[:, 3] * 6 + got[:, 4], joint, N, P, what + " (pairs of new tokens)")


class Unchanged(InputsUnchanged):
    title = "next_token_loss, sample_next_token and generate do not modify their inputs in place"

    def probes(self, p):
        logits, tokens = p.randn(2, 5, 7), p.randint(0, 7, 2, 5)
        step = p.add(draw_logits(p, 4, 0.7, 3, 0.9))
        spec = lm_spec(p)
        prompt = p.randint(0, 6, 2, 3)
        return [(p.call("loss_inplace", "next_token_loss", logits, tokens), ("logits", "tokens")),
                (p.probe("sample_inplace", [Call(fn="sample_next_token", args=(step,),
                                                 kwargs={"temperature": 0.7, "top_k": 3, "top_p": 0.9})]),
                 ("logits",)),
                (p.probe("generate_inplace", [Call(fn="generate", args=(ObjectRef("lm"), prompt, 3),
                                                   kwargs={"temperature": 0.5})], objects={"lm": spec}),
                 {1: "prompt"})]


CHECKS = [LossValues(), LossGradients(), Temperature(), TopK(), TopP(), Greedy(), Reproducible(), RowsIndependent(),
          GenerateGreedy(), GenerateSampling(), Unchanged()]
