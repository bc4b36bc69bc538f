"""Checks for `scaled_dot_product_attention`, `causal_mask` and `MultiHeadSelfAttention`.

Expected values come from `reference_models.attention`, evaluated in float64 on
the very inputs the submission received. Tolerances:

- ordinary float32 inputs: rtol 1e-4, atol 1e-5 (a correct float32 computation is
  within about 1e-6; the scale may be applied to q, to k, to both or to the
  logits, with `math.sqrt`, `** -0.5` or a tensor);
- float64 inputs: rtol 1e-5, atol 1e-6 (loose enough for a scale kept as a float32
  0-dim tensor, tight enough that a float32 computation is not a float64 one);
- extreme logits: the contract's rtol 1e-3 plus atol 1e-4 * max|v| (outputs are
  convex combinations of the rows of v, so an error is only meaningful relative to
  |v|).

The extreme-logit inputs are built from integers: q = (a_i, u_i), k = (b_j, w_j)
with |a_i|, |b_j| = 100 * d**0.25 (200 for d = 16, 400 for d = 256) and u, w in
{0, 1}, so every partial sum of q @ k^T is an integer below 2**24 and exact in
float32 in any order, and sqrt(d) and d**0.25 are powers of two, so the scaled
logits (which reach -1e4 exactly and +9950 to +9991) are exact wherever the scale
is applied. What is left to test is the softmax: a correct float32 softmax (with
the max subtracted, or via logsumexp, whose rounding at 1e4 is at most 4.9e-4
relative) is within the contract's 1e-3.

Nothing here is fitted to the files in wrong/: the hints name the usual bugs by
recomputing them (on the trusted side) and comparing what came back.
"""
from __future__ import annotations

import math

import torch

from grader.checks import (
    Call,
    Differential,
    Gradients,
    InputsUnchanged,
    KnownBugs,
    Planner,
    TableCheck,
    Tol,
    expect_equal,
    expect_tensor,
)
from grader.outputs import TensorValue
from reference_models.attention import MultiHeadSelfAttention as ReferenceMHSA
from reference_models.attention import causal_mask as reference_causal_mask
from reference_models.attention import scaled_dot_product_attention as reference_sdpa

FN = "scaled_dot_product_attention"
TOL = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-5, 1e-6)}
RTOL_EXTREME, ATOL_EXTREME = 1e-3, 1e-4  # atol is relative to max|v|
MHSA_TOL, GRAD_TOL = Tol(1e-4, 2e-5), Tol(1e-4, 2e-5)

HINT_UNSCALED = "The logits are not scaled: divide q @ k^T by sqrt(d), with d = q.shape[-1]."
HINT_SCALE_D = "You divided the logits by d; the scale is sqrt(d): `/ math.sqrt(q.shape[-1])`."
HINT_SCALE_DV = ("You scaled by the square root of v's last dimension; d is the query/key dimension, "
                 "q.shape[-1] (here it differs from v.shape[-1]).")
HINT_DIM = ("The softmax must normalise over the keys, the last dimension (`dim=-1`), so that each "
            "query's weights sum to 1.")
HINT_INVERTED = ("The mask is inverted: True means the query MAY attend to the key. Fill the logits where "
                 "the mask is False (`~mask`) with -inf.")
HINT_IGNORED = "The mask had no effect: set the logits where the mask is False to -inf before the softmax."
HINT_MULTIPLIED = ("Multiplying the logits by the mask sets the masked logits to 0, which still gets weight "
                   "after the softmax; fill them with -inf instead (`scores.masked_fill(~mask, float('-inf'))`).")
HINT_AFTER_SOFTMAX = ("The mask was applied after the softmax, so the remaining weights no longer sum to 1: "
                      "mask the logits (with -inf) before the softmax.")
HINT_OVERFLOW = ("With scaled logits of ±1e4, exp overflows to inf (or underflows to 0 everywhere, giving 0/0). "
                 "Subtract each row's maximum logit before exp — `torch.softmax` does this for you.")
HINT_MAX_BEFORE_MASK = ("You subtracted a row maximum that includes masked keys: here masked logits of about "
                        "+1e4 set the maximum, so exp of every allowed logit (about -1e4) underflowed to 0 and "
                        "the row became 0/0. Mask first (with -inf), then take the maximum.")
HINT_FINITE_FILL = ("Masked logits were filled with a finite number such as -1e4. Here the allowed logits are "
                    "themselves about -1e4, so the masked keys got weight too. Fill with `float('-inf')` (or "
                    "`torch.finfo(scores.dtype).min`).")
HINT_SPLIT = ("The heads are split the wrong way: each of q, k, v (B, L, d_model) must become "
              "(B, n_heads, L, d_head) with `.view(B, L, n_heads, d_head).transpose(1, 2)`; "
              "`.view(B, n_heads, L, d_head)` mixes positions and features.")
HINT_MERGE = ("The heads are merged the wrong way: (B, n_heads, L, d_head) goes back to (B, L, d_model) with "
              "`.transpose(1, 2).reshape(B, L, d_model)`; a reshape without the transpose mixes heads and "
              "positions.")
HINT_NO_PROJ = "The merged heads must go through the output projection `self.proj`."
HINT_PER_HEAD = ("A (B, L, L) mask holds one mask per sequence and applies to every head: `mask.unsqueeze(1)` "
                 "gives (B, 1, L, L), which broadcasts over the heads. `repeat`/`view` or `unsqueeze(0)` put "
                 "the masks of other sequences on the heads.")
HINT_STATE = ("The grader builds your class as `MultiHeadSelfAttention(d_model, n_heads)` and loads `qkv.weight`, "
              "`qkv.bias`, `proj.weight` and `proj.bias` into it with `load_state_dict(strict=True)`: define "
              "exactly `self.qkv = nn.Linear(d_model, 3 * d_model)` and `self.proj = nn.Linear(d_model, d_model)` "
              "and no other parameters or persistent buffers.")

NONFINITE_HINT = "Look for exp of a large number, 0/0, or a fully masked row (-inf everywhere)."


# --- trusted-side helpers --------------------------------------------------------------------------------

def _attend(q, k, v, mask=None, *, scale="sqrt", dim=-1, mask_mode="ok", fill=float("-inf"), max_first=False):
    """Attention in float64, with the usual bugs switchable, for the hints."""
    q, k, v = q.double(), k.double(), v.double()
    d = q.shape[-1]
    s = q @ k.transpose(-2, -1) / {"sqrt": math.sqrt(d), "none": 1.0, "d": float(d),
                                   "sqrt_dv": math.sqrt(v.shape[-1])}[scale]
    if mask is None or mask_mode == "ignored":
        return torch.softmax(s, dim=dim) @ v
    allowed = ~mask if mask_mode == "inverted" else mask
    if mask_mode == "multiplied":
        return torch.softmax(s * allowed, dim=dim) @ v
    if mask_mode == "after_softmax":
        return (torch.softmax(s, dim=dim) * allowed) @ v
    if max_first:  # row max taken over all keys, masked ones included; manual exp
        e = torch.exp(s - s.amax(-1, keepdim=True)).masked_fill(~allowed, 0.0)
        return (e / e.sum(-1, keepdim=True)) @ v
    return torch.softmax(s.masked_fill(~allowed, fill), dim=dim) @ v


def _bug(**variant):
    return lambda q, k, v, mask=None: _attend(q, k, v, mask, **variant)


# A bug that these inputs cannot show (a mask bug without a mask, sqrt(dv) with dv = d) names nothing.
SCALE_BUGS = KnownBugs({HINT_UNSCALED: _bug(scale="none"), HINT_SCALE_D: _bug(scale="d")})
MASK_BUGS = KnownBugs({HINT_INVERTED: _bug(mask_mode="inverted"), HINT_IGNORED: _bug(mask_mode="ignored")})
VALUE_BUGS = SCALE_BUGS + KnownBugs({HINT_SCALE_DV: _bug(scale="sqrt_dv"), HINT_DIM: _bug(dim=-2)}) + MASK_BUGS + \
    KnownBugs({HINT_MULTIPLIED: _bug(mask_mode="multiplied"), HINT_AFTER_SOFTMAX: _bug(mask_mode="after_softmax")})
EXTREME_BUGS = SCALE_BUGS + KnownBugs({HINT_DIM: _bug(dim=-2), HINT_MAX_BEFORE_MASK: _bug(max_first=True),
                                       HINT_FINITE_FILL: _bug(fill=-1e4), HINT_MULTIPLIED: _bug(fill=0.0)}) + MASK_BUGS


def _random_mask(p: Planner, *shape: int, p_true: float = 0.6, both: bool = True) -> torch.Tensor:
    """Bool mask; every row (last dim) has at least one True and, if `both`, at least one False
    (so the inverted mask has no fully masked row either and the hint can name it)."""
    g = p.generator
    m = torch.rand(*shape, generator=g) < p_true
    n = shape[-1]
    i_true = torch.randint(0, n, (*shape[:-1], 1), generator=g)
    m = m.scatter(-1, i_true, True)
    if both and n > 1:
        i_false = (i_true + 1 + torch.randint(0, n - 1, (*shape[:-1], 1), generator=g)) % n
        m = m.scatter(-1, i_false, False)
    return m


# --- scaled_dot_product_attention: a case is (batch shape, Lq, Lk, d, dv, bool mask or None) -------------

class Sdpa(Differential):
    fn, tolerances, bugs, nonfinite_hint = FN, TOL, VALUE_BUGS, NONFINITE_HINT
    dtype = torch.float32

    def inputs(self, p, case):
        batch, lq, lk, d, dv, mask = case
        q = p.randn(*batch, lq, d, dtype=self.dtype, std=1.5)
        k = p.randn(*batch, lk, d, dtype=self.dtype, std=1.5)
        v = p.randn(*batch, lk, dv, dtype=self.dtype)
        return (q, k, v) if mask is None else (q, k, v, p.add(mask))

    reference = staticmethod(reference_sdpa)


class SdpaValues(Sdpa):
    name = "sdpa_values"
    title = ("scaled_dot_product_attention without a mask: 2-D (Lq, d), 3-D and 4-D inputs, Lq != Lk, dv != d, "
             "matches softmax(q k^T / sqrt(d)) v")
    cases = [((), 5, 7, 8, 8, None), ((3,), 4, 4, 16, 16, None), ((2, 3), 5, 7, 8, 6, None), ((2,), 1, 3, 4, 2, None)]


class SdpaMasked(Sdpa):
    name = "sdpa_masked"
    title = ("scaled_dot_product_attention with bool masks broadcast to (..., Lq, Lk): (Lq, Lk), (B, 1, Lq, Lk), "
             "(B, Lq, Lk), and a causal mask (True = may attend)")

    def table(self, p):
        return [((2, 3), 5, 7, 8, 6, _random_mask(p, 5, 7)), ((2, 3), 5, 7, 8, 6, _random_mask(p, 2, 1, 5, 7)),
                ((), 6, 6, 8, 4, reference_causal_mask(6)), ((3,), 4, 9, 16, 5, _random_mask(p, 3, 4, 9))]


class SdpaFloat64(Sdpa):
    name, dtype = "sdpa_float64", torch.float64
    title = "scaled_dot_product_attention keeps float64 (with and without a mask) and computes in it"

    def table(self, p):
        return [((2,), 4, 6, 8, 3, None), ((2,), 4, 6, 8, 3, _random_mask(p, 4, 6))]


# --- extreme logits: a case is (batch shape, query signs, key signs, d, dv[, mask batch shape]) ----------

def _extreme_inputs(p: Planner, batch: tuple, q_signs: list[int], k_signs: list[int], d: int, dv: int):
    """Integer q, k whose scaled logits are exactly -1e4 + (u.w)/sqrt(d) (query sign -1, key sign +1),
    about +9950..+9991 (equal signs) or about -9900 (query +1, key -1); see the module docstring."""
    root = math.isqrt(d)
    assert root * root == d and round(d ** 0.25) ** 4 == d
    a = round(100 * d ** 0.25)  # a * a / sqrt(d) = 1e4
    g, density = p.generator, 0.3 if d == 16 else 1 / 16
    lq, lk = len(q_signs), len(k_signs)
    qa = torch.tensor([-a if s < 0 else a - 1 for s in q_signs], dtype=torch.float64)
    kb = torch.tensor([a if s > 0 else -(a - 1) for s in k_signs], dtype=torch.float64)
    u = (torch.rand(*batch, lq, d - 1, generator=g) < density).double()
    w = (torch.rand(*batch, lk, d - 1, generator=g) < density).double()
    q = torch.cat([qa.expand(*batch, lq)[..., None], u], -1)
    k = torch.cat([kb.expand(*batch, lk)[..., None], w], -1)
    assert float((q @ k.transpose(-2, -1) / root).abs().max()) <= 1e4
    v = torch.randn(*batch, lk, dv, generator=g, dtype=torch.float64)
    return p.add(q.float()), p.add(k.float()), p.add(v.float())


def _extreme_mask(p: Planner, q_signs: list[int], k_signs: list[int], batch: tuple = ()) -> torch.Tensor:
    """Rows of queries with sign -1 may attend only to (a random non-empty subset of) the keys whose
    logits are about -1e4; their keys with logits about +1e4 are masked. Other rows: random, non-empty."""
    g = p.generator
    lq, lk = len(q_signs), len(k_signs)
    m = _random_mask(p, *batch, lq, lk, p_true=0.5, both=False)
    positive = torch.tensor([s > 0 for s in k_signs])
    for i, s in enumerate(q_signs):
        if s < 0:
            row = (torch.rand(*batch, lk, generator=g) < 0.5) & positive
            first = int(positive.nonzero()[int(torch.randint(0, int(positive.sum()), (1,), generator=g))])
            row[..., first] = True
            m[..., i, :] = row
    return m


class ExtremeLogits(Sdpa):
    name, bugs, nonfinite_hint = "extreme_logits", EXTREME_BUGS, HINT_OVERFLOW
    title = "scaled_dot_product_attention stays finite and correct (rtol 1e-3) when the scaled logits reach ±1e4"
    cases = [((2,), [-1, 1, -1, 1, -1, 1], [1, 1, 1, -1, 1, -1, 1, 1], 16, 5),
             ((1, 2), [-1, -1, 1], [1, 1, 1, 1], 16, 7),  # rows whose logits are all about -1e4
             ((), [1, -1, 1, -1], [1, -1, 1, 1, -1], 256, 3)]
    hint = ("The result must stay correct (relative error <= 1e-3) for logits of ±1e4: subtract the "
            "row maximum before exp, and fill masked logits with -inf.")

    def inputs(self, p, case):
        q, k, v = _extreme_inputs(p, *case[:5])
        return (q, k, v) if len(case) == 5 else (q, k, v, p.add(_extreme_mask(p, case[1], case[2], case[5])))

    def tol(self, case):
        return Tol(RTOL_EXTREME, ATOL_EXTREME * float(case.args[2].abs().max()))

    def what(self, call, case):
        return f"`{call.description}` with scaled logits between -1e4 and +1e4"


class ExtremeLogitsMasked(ExtremeLogits):
    name = "extreme_logits_masked"
    title = ("scaled_dot_product_attention with a mask at logits of ±1e4: allowed logits near -1e4, masked ones "
             "near +1e4")
    cases = [((2,), [-1, 1, -1, 1, -1, 1], [1, 1, 1, -1, 1, -1, 1, -1], 16, 5, ()),
             ((2, 2), [-1, 1, -1, -1, 1], [1, -1, 1, 1, -1, 1], 256, 4, (2, 1))]


# --- gradients -------------------------------------------------------------------------------------------

class SdpaGradients(Gradients):
    name, fn, tolerances = "sdpa_gradients", FN, GRAD_TOL
    title = "Gradients of scaled_dot_product_attention with respect to q, k and v (with and without a mask)"
    cases = [((2,), 5, 7, 8, 6, False), ((2,), 5, 7, 8, 6, True)]
    grad_what = "d(sum(g * output))/d{name} for `{call}`"
    missing_hint = hint = ("Keep the computation in torch and differentiable: no `.detach()`, `.item()`, `.numpy()`, "
                           "`torch.tensor(...)` of intermediate results, and no `torch.no_grad()`.")

    def inputs(self, p, case):
        batch, lq, lk, d, dv, with_mask = case
        q, k, v = p.randn(*batch, lq, d, std=1.5), p.randn(*batch, lk, d, std=1.5), p.randn(*batch, lk, dv)
        return (q, k, v, p.add(_random_mask(p, lq, lk))) if with_mask else (q, k, v)

    def upstream(self, p, case):
        return p.randn(*case[0], case[1], case[4])

    reference = staticmethod(reference_sdpa)

    def grad_hint(self, call, case):
        out, forward = self.reference(*case.args64()), call.value()
        if (isinstance(forward, TensorValue) and forward.data.shape == out.shape
                and bool(torch.isfinite(forward.data).all())
                and torch.allclose(forward.data.double(), out, rtol=TOL[torch.float32].rtol,
                                   atol=TOL[torch.float32].atol)):
            return self.hint
        return ("The output of this call already differs from softmax(q k^T / sqrt(d)) v (see the value "
                "checks); the gradients follow once the values are right.")


# --- causal_mask -----------------------------------------------------------------------------------------

class CausalMask(TableCheck):
    name, fn, cases = "causal_mask", "causal_mask", (1, 5, 64)
    title = "causal_mask(L) for L = 1, 5, 64: (L, L) bool, True on and below the diagonal"

    def inputs(self, p, L):
        return (L,)

    def judge_case(self, call, case):
        L, what = case.args[0], f"`{call.description}`"
        t = expect_tensor(call.value(), what=what, shape=(L, L), dtype=torch.bool, finite=False, dtype_hint=(
            "Return a bool mask (True = may attend), e.g. `torch.ones(L, L, dtype=torch.bool).tril()`."))
        ones = torch.ones(L, L, dtype=torch.bool)
        expect_equal(t, reference_causal_mask(L), what=what, known_bugs={
            "This is the upper triangle: True must be on and BELOW the diagonal (`.tril()`).": ones.triu(),
            "The diagonal must be True too: every position may attend to itself (`.tril()`, not `.tril(-1)`).":
                ones.tril(-1),
            "This marks the positions to hide; the contract's mask is True where a query MAY attend "
            "(on and below the diagonal).": ones.triu(1)},
            hint="Query i may attend to keys j <= i: True on and below the diagonal.")


# --- MultiHeadSelfAttention: a case is (B, L, d_model, n_heads, mask or None) ----------------------------

def _mhsa_objects(p: Planner, d_model: int, n_heads: int) -> dict:
    """The student's class, built by the sandbox with the grader's weights (drawn here)."""
    def randn(*shape, std):
        return (torch.randn(*shape, generator=p.generator, dtype=torch.float64) * std).float()

    state = {"qkv.weight": randn(3 * d_model, d_model, std=0.25), "qkv.bias": randn(3 * d_model, std=0.1),
             "proj.weight": randn(d_model, d_model, std=d_model ** -0.5), "proj.bias": randn(d_model, std=0.1)}
    return {"mha": {"type": "student_class", "name": "MultiHeadSelfAttention", "args": [d_model, n_heads],
                    "state": state}}


def _mhsa_variant(state, d_model, n_heads, x, mask, *, split="ok", merge="ok", mask_mode="ok", scale="sqrt",
                  proj=True, dim=-1):
    """The reference computation with one usual bug switched on (float64)."""
    W = {k: t.double() for k, t in state.items()}
    x = x.double()
    B, L, _ = x.shape
    dh = d_model // n_heads
    q, k, v = (x @ W["qkv.weight"].T + W["qkv.bias"]).split(d_model, dim=-1)
    if split == "ok":
        q, k, v = (t.reshape(B, L, n_heads, dh).transpose(1, 2) for t in (q, k, v))
    else:
        q, k, v = (t.reshape(B, n_heads, L, dh) for t in (q, k, v))
    m = mask
    if mask is not None and mask.dim() == 3:
        m = mask.repeat(n_heads, 1, 1).view(B, n_heads, L, L) if mask_mode == "repeat" else mask[:, None]
    out = _attend(q, k, v, m, scale=scale, dim=dim, mask_mode=mask_mode if mask_mode != "repeat" else "ok")
    out = out.transpose(1, 2).reshape(B, L, d_model) if merge == "ok" else out.reshape(B, L, d_model)
    return out @ W["proj.weight"].T + W["proj.bias"] if proj else out


MHSA_BUGS = [(HINT_SPLIT, {"split": "wrong"}), (HINT_MERGE, {"merge": "wrong"}), (HINT_NO_PROJ, {"proj": False}),
             (HINT_UNSCALED, {"scale": "none"}), (HINT_SCALE_D, {"scale": "d"}), (HINT_DIM, {"dim": -2}),
             (HINT_IGNORED, {"mask_mode": "ignored"}), (HINT_INVERTED, {"mask_mode": "inverted"}),
             (HINT_PER_HEAD, {"mask_mode": "repeat"})]  # the mask bugs name nothing without a (B, L, L) mask


class Mhsa(Differential):
    tolerances, nonfinite_hint = MHSA_TOL, NONFINITE_HINT
    hint = ("Follow the contract step by step: qkv, split, view/transpose into heads, attention per "
            "head, transpose/reshape back, proj.")

    def objects(self, p, case):
        return _mhsa_objects(p, case[2], case[3])

    def inputs(self, p, case):
        return (p.randn(*case[:3]),)

    def kwargs(self, p, case):
        return {} if case[4] is None else {"mask": p.add(case[4])}

    def call(self, p, case, args, kwargs):
        return Call(object="mha", args=args, kwargs=kwargs)

    def _args(self, case):
        return case.objects["mha"]["state"], *case.objects["mha"]["args"], case.args[0], case.kwargs.get("mask")

    def expected(self, case):
        state, d_model, n_heads, x, mask = self._args(case)
        model = ReferenceMHSA(d_model, n_heads).double()
        model.load_state_dict({k: t.double() for k, t in state.items()})
        with torch.no_grad():
            return model(x.double(), mask)

    def known_bugs(self, case):
        return {hint: _mhsa_variant(*self._args(case), **bug) for hint, bug in MHSA_BUGS}

    def error_hint(self, run, case, message):
        """The module could not be built (its state did not load), or a mask did not broadcast."""
        payload, mask = run.probes.get(case.probe), case.kwargs.get("mask")
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            return HINT_STATE
        if mask is not None and "size of tensor" in message:
            return HINT_PER_HEAD if mask.dim() == 3 else (
                "An (L, L) mask broadcasts against the (B, n_heads, L, L) logits as it is; only a (B, L, L) "
                "mask needs `mask.unsqueeze(1)`.")
        return None

    def what(self, call, case):
        return (f"`{call.description}` (MultiHeadSelfAttention({case.case[2]}, {case.case[3]}) with the "
                f"grader's weights)")


class MhsaNoMask(Mhsa):
    name, cases = "mhsa_no_mask", [(2, 6, 32, 4, None), (3, 5, 24, 3, None)]
    title = "MultiHeadSelfAttention without a mask matches the reference (d_model 32 / 4 heads, 24 / 3 heads)"


class MhsaCausalMask(Mhsa):
    name, cases = "mhsa_causal_mask", [(2, 7, 32, 4, reference_causal_mask(7))]
    title = "MultiHeadSelfAttention with an (L, L) causal mask shared by the batch"


class MhsaBatchMask(Mhsa):
    name = "mhsa_batch_mask"
    title = "MultiHeadSelfAttention with a (B, L, L) mask, one per sequence, applied to every head"

    def table(self, p):
        return [(3, 6, 32, 4, _random_mask(p, 3, 6, 6, p_true=0.5))]


# --- inputs unchanged ------------------------------------------------------------------------------------

class Unchanged(InputsUnchanged):
    title = "Does not modify q, k, v, mask (scaled_dot_product_attention) or x, mask (MultiHeadSelfAttention) in place"

    def probes(self, p):
        q, k, v = p.randn(2, 3, 5, 8), p.randn(2, 3, 7, 8), p.randn(2, 3, 7, 6)
        sdpa = p.probe("inplace_sdpa", [Call(fn=FN, args=(q, k, v, p.add(_random_mask(p, 2, 1, 5, 7))))])
        mask = _random_mask(p, 2, 6, 6, p_true=0.5)
        objects = _mhsa_objects(p, 16, 2)
        call = Call(object="mha", args=(p.randn(2, 6, 16),), kwargs={"mask": p.add(mask)})
        note = ("MultiHeadSelfAttention could not be built (see the MHSA checks), so only "
                "scaled_dot_product_attention was checked.")
        return [(sdpa, ("q", "k", "v", "mask")),
                (p.probe("inplace_mhsa", [call], objects=objects), {0: "x", "mask": "mask"}, 0, False, note)]


CHECKS = [SdpaValues(), SdpaMasked(), SdpaFloat64(), ExtremeLogits(), ExtremeLogitsMasked(), SdpaGradients(),
          CausalMask(), MhsaNoMask(), MhsaCausalMask(), MhsaBatchMask(), Unchanged()]
