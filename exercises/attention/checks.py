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
    Check,
    CheckFailure,
    Planner,
    Run,
    expect_close,
    expect_tensor,
    expect_unmutated,
    show_tensor,
)
from grader.outputs import TensorValue
from reference_models.attention import MultiHeadSelfAttention as ReferenceMHSA
from reference_models.attention import causal_mask as reference_causal_mask
from reference_models.attention import scaled_dot_product_attention as reference_sdpa

FN = "scaled_dot_product_attention"
RTOL, ATOL = 1e-4, 1e-5
RTOL64, ATOL64 = 1e-5, 1e-6
RTOL_EXTREME, ATOL_EXTREME = 1e-3, 1e-4  # atol is relative to max|v|
MHSA_RTOL, MHSA_ATOL = 1e-4, 2e-5

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


# ---------------------------------------------------------------------------
# trusted-side helpers
# ---------------------------------------------------------------------------

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


def _expected(q, k, v, mask=None):
    return reference_sdpa(q.double(), k.double(), v.double(), mask)


def _value_bugs(q, k, v, mask=None) -> dict:
    bugs = {HINT_UNSCALED: _attend(q, k, v, mask, scale="none"), HINT_SCALE_D: _attend(q, k, v, mask, scale="d")}
    if v.shape[-1] != q.shape[-1]:
        bugs[HINT_SCALE_DV] = _attend(q, k, v, mask, scale="sqrt_dv")
    bugs[HINT_DIM] = _attend(q, k, v, mask, dim=-2)
    if mask is not None:
        bugs[HINT_INVERTED] = _attend(q, k, v, mask, mask_mode="inverted")
        bugs[HINT_IGNORED] = _attend(q, k, v, mask, mask_mode="ignored")
        bugs[HINT_MULTIPLIED] = _attend(q, k, v, mask, mask_mode="multiplied")
        bugs[HINT_AFTER_SOFTMAX] = _attend(q, k, v, mask, mask_mode="after_softmax")
    return bugs


def _compare(value, expected, *, what, dtype, rtol, atol, bugs=None, hint=None,
             nonfinite_hint="Look for exp of a large number, 0/0, or a fully masked row (-inf everywhere).") -> None:
    """Shape, dtype, finiteness (hint: a known bug with the same NaN pattern), then values."""
    t = expect_tensor(value, what=what, shape=tuple(expected.shape), dtype=dtype, finite=False)
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        chosen = nonfinite_hint
        for bug_hint, b in (bugs or {}).items():
            if torch.equal(~torch.isfinite(b), bad):
                chosen = bug_hint
                break
        raise CheckFailure(f"{what}: {int(bad.sum())} of {t.numel()} values are NaN or infinite.",
                           expected=show_tensor(expected), got=show_tensor(t), hint=chosen)
    finite_bugs = {h: b for h, b in (bugs or {}).items() if bool(torch.isfinite(b).all())}
    expect_close(t, expected, what=what, rtol=rtol, atol=atol, known_bugs=finite_bugs, hint=hint)


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


def _call_desc(call) -> str:
    return f"`{call.description}`"


# ---------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------

def _plan_sdpa_cases(p: Planner, prefix: str, cases: list[tuple], dtype=torch.float32, std=1.5) -> list[dict]:
    """cases: (batch shape, Lq, Lk, d, dv, bool mask or None); one probe per case."""
    planned = []
    for i, (batch, lq, lk, d, dv, mask) in enumerate(cases):
        q = p.randn(*batch, lq, d, dtype=dtype, std=std)
        k = p.randn(*batch, lk, d, dtype=dtype, std=std)
        v = p.randn(*batch, lk, dv, dtype=dtype)
        args = (q, k, v)
        m = None
        if mask is not None:
            m = p.add(mask)
            args = (q, k, v, m)
        probe = p.probe(f"{prefix}{i}", [Call(fn=FN, args=args)])
        planned.append({"probe": probe, "q": q.value, "k": k.value, "v": v.value,
                        "mask": None if m is None else m.value})
    return planned


def _judge_sdpa_cases(run: Run, planned: list[dict], *, dtype, rtol, atol) -> None:
    for case in planned:
        call = run.call(case["probe"])
        q, k, v, m = case["q"], case["k"], case["v"], case["mask"]
        _compare(call.value(), _expected(q, k, v, m), what=_call_desc(call), dtype=dtype, rtol=rtol, atol=atol,
                 bugs=_value_bugs(q, k, v, m))


class SdpaValues(Check):
    name = "sdpa_values"
    title = ("scaled_dot_product_attention without a mask: 2-D (Lq, d), 3-D and 4-D inputs, Lq != Lk, dv != d, "
             "matches softmax(q k^T / sqrt(d)) v")

    def plan(self, p):
        return _plan_sdpa_cases(p, "values", [
            ((), 5, 7, 8, 8, None),
            ((3,), 4, 4, 16, 16, None),
            ((2, 3), 5, 7, 8, 6, None),
            ((2,), 1, 3, 4, 2, None),
        ])

    def judge(self, run, planned):
        _judge_sdpa_cases(run, planned, dtype=torch.float32, rtol=RTOL, atol=ATOL)


class SdpaMasked(Check):
    name = "sdpa_masked"
    title = ("scaled_dot_product_attention with bool masks broadcast to (..., Lq, Lk): (Lq, Lk), (B, 1, Lq, Lk), "
             "(B, Lq, Lk), and a causal mask (True = may attend)")

    def plan(self, p):
        return _plan_sdpa_cases(p, "masked", [
            ((2, 3), 5, 7, 8, 6, _random_mask(p, 5, 7)),
            ((2, 3), 5, 7, 8, 6, _random_mask(p, 2, 1, 5, 7)),
            ((), 6, 6, 8, 4, reference_causal_mask(6)),
            ((3,), 4, 9, 16, 5, _random_mask(p, 3, 4, 9)),
        ])

    def judge(self, run, planned):
        _judge_sdpa_cases(run, planned, dtype=torch.float32, rtol=RTOL, atol=ATOL)


class SdpaFloat64(Check):
    name = "sdpa_float64"
    title = "scaled_dot_product_attention keeps float64 (with and without a mask) and computes in it"

    def plan(self, p):
        return _plan_sdpa_cases(p, "float64", [
            ((2,), 4, 6, 8, 3, None),
            ((2,), 4, 6, 8, 3, _random_mask(p, 4, 6)),
        ], dtype=torch.float64)

    def judge(self, run, planned):
        _judge_sdpa_cases(run, planned, dtype=torch.float64, rtol=RTOL64, atol=ATOL64)


# ---------------------------------------------------------------------------
# extreme logits
# ---------------------------------------------------------------------------

def _extreme_inputs(p: Planner, batch: tuple, q_signs: list[int], k_signs: list[int], d: int, dv: int,
                    density: float):
    """Integer q, k whose scaled logits are exactly -1e4 + (u.w)/sqrt(d) (query sign -1, key sign +1),
    about +9950..+9991 (equal signs) or about -9900 (query +1, key -1); see the module docstring."""
    root = math.isqrt(d)
    assert root * root == d and round(d ** 0.25) ** 4 == d
    a = round(100 * d ** 0.25)  # a * a / sqrt(d) = 1e4
    g = p.generator
    lq, lk = len(q_signs), len(k_signs)
    qa = torch.tensor([-a if s < 0 else a - 1 for s in q_signs], dtype=torch.float64)
    kb = torch.tensor([a if s > 0 else -(a - 1) for s in k_signs], dtype=torch.float64)
    u = (torch.rand(*batch, lq, d - 1, generator=g) < density).double()
    w = (torch.rand(*batch, lk, d - 1, generator=g) < density).double()
    q = torch.cat([qa.expand(*batch, lq)[..., None], u], -1)
    k = torch.cat([kb.expand(*batch, lk)[..., None], w], -1)
    logits = q @ k.transpose(-2, -1) / root
    assert float(logits.abs().max()) <= 1e4
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


def _judge_extreme(run: Run, planned: list[dict]) -> None:
    for case in planned:
        call = run.call(case["probe"])
        q, k, v, m = case["q"], case["k"], case["v"], case["mask"]
        bugs = {HINT_UNSCALED: _attend(q, k, v, m, scale="none"), HINT_SCALE_D: _attend(q, k, v, m, scale="d"),
                HINT_DIM: _attend(q, k, v, m, dim=-2)}
        if m is not None:
            bugs[HINT_MAX_BEFORE_MASK] = _attend(q, k, v, m, max_first=True)
            for fill in (-1e4, -1e3, -100.0, 0.0):
                bugs.setdefault(HINT_FINITE_FILL if fill else HINT_MULTIPLIED, _attend(q, k, v, m, fill=fill))
            bugs[HINT_INVERTED] = _attend(q, k, v, m, mask_mode="inverted")
            bugs[HINT_IGNORED] = _attend(q, k, v, m, mask_mode="ignored")
        scale = float(v.abs().max())
        _compare(call.value(), _expected(q, k, v, m),
                 what=f"{_call_desc(call)} with scaled logits between -1e4 and +1e4",
                 dtype=torch.float32, rtol=RTOL_EXTREME, atol=ATOL_EXTREME * scale, bugs=bugs,
                 nonfinite_hint=HINT_OVERFLOW,
                 hint=("The result must stay correct (relative error <= 1e-3) for logits of ±1e4: subtract the "
                       "row maximum before exp, and fill masked logits with -inf."))


class ExtremeLogits(Check):
    name = "extreme_logits"
    title = "scaled_dot_product_attention stays finite and correct (rtol 1e-3) when the scaled logits reach ±1e4"

    def plan(self, p):
        planned = []
        for i, (batch, qs, ks, d, dv) in enumerate([
            ((2,), [-1, 1, -1, 1, -1, 1], [1, 1, 1, -1, 1, -1, 1, 1], 16, 5),
            ((1, 2), [-1, -1, 1], [1, 1, 1, 1], 16, 7),  # rows whose logits are all about -1e4
            ((), [1, -1, 1, -1], [1, -1, 1, 1, -1], 256, 3),
        ]):
            q, k, v = _extreme_inputs(p, batch, qs, ks, d, dv, density=0.3 if d == 16 else 1 / 16)
            probe = p.probe(f"extreme{i}", [Call(fn=FN, args=(q, k, v))])
            planned.append({"probe": probe, "q": q.value, "k": k.value, "v": v.value, "mask": None})
        return planned

    def judge(self, run, planned):
        _judge_extreme(run, planned)


class ExtremeLogitsMasked(Check):
    name = "extreme_logits_masked"
    title = ("scaled_dot_product_attention with a mask at logits of ±1e4: allowed logits near -1e4, masked ones "
             "near +1e4")

    def plan(self, p):
        planned = []
        for i, (batch, qs, ks, d, dv, mask_batch) in enumerate([
            ((2,), [-1, 1, -1, 1, -1, 1], [1, 1, 1, -1, 1, -1, 1, -1], 16, 5, ()),
            ((2, 2), [-1, 1, -1, -1, 1], [1, -1, 1, 1, -1, 1], 256, 4, (2, 1)),
        ]):
            q, k, v = _extreme_inputs(p, batch, qs, ks, d, dv, density=0.3 if d == 16 else 1 / 16)
            m = p.add(_extreme_mask(p, qs, ks, mask_batch))
            probe = p.probe(f"extreme_masked{i}", [Call(fn=FN, args=(q, k, v, m))])
            planned.append({"probe": probe, "q": q.value, "k": k.value, "v": v.value, "mask": m.value})
        return planned

    def judge(self, run, planned):
        _judge_extreme(run, planned)


# ---------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------

class SdpaGradients(Check):
    name = "sdpa_gradients"
    title = "Gradients of scaled_dot_product_attention with respect to q, k and v (with and without a mask)"

    def plan(self, p):
        planned = []
        for i, (batch, lq, lk, d, dv, with_mask) in enumerate([((2,), 5, 7, 8, 6, False), ((2,), 5, 7, 8, 6, True)]):
            q, k, v = p.randn(*batch, lq, d, std=1.5), p.randn(*batch, lk, d, std=1.5), p.randn(*batch, lk, dv)
            m = p.add(_random_mask(p, lq, lk)) if with_mask else None
            upstream = p.randn(*batch, lq, dv)
            args = (q, k, v) if m is None else (q, k, v, m)
            probe = p.probe(f"grad{i}", [Call(fn=FN, args=args, grad_wrt=(0, 1, 2), upstream=upstream)])
            planned.append({"probe": probe, "q": q.value, "k": k.value, "v": v.value,
                            "mask": None if m is None else m.value, "g": upstream.value})
        return planned

    def judge(self, run, planned):
        for case in planned:
            call = run.call(case["probe"])
            leaves = [case[n].double().requires_grad_(True) for n in ("q", "k", "v")]
            out = reference_sdpa(*leaves, case["mask"])
            grads = torch.autograd.grad(out, leaves, grad_outputs=case["g"].double())
            hint = ("Keep the computation in torch and differentiable: no `.detach()`, `.item()`, `.numpy()`, "
                    "`torch.tensor(...)` of intermediate results, and no `torch.no_grad()`.")
            forward = call.value()
            if not (isinstance(forward, TensorValue) and forward.data.shape == out.shape
                    and bool(torch.isfinite(forward.data).all())
                    and torch.allclose(forward.data.double(), out.detach(), rtol=RTOL, atol=ATOL)):
                hint = ("The output of this call already differs from softmax(q k^T / sqrt(d)) v (see the value "
                        "checks); the gradients follow once the values are right.")
            for i, name in enumerate(("q", "k", "v")):
                got = call.grad(i)
                if got is None:
                    raise CheckFailure(f"No gradient reached `{name}` through {_call_desc(call)}.", hint=hint)
                expect_close(got, grads[i], what=f"d(sum(g * output))/d{name} for {_call_desc(call)}",
                             rtol=RTOL, atol=2e-5, hint=hint)


# ---------------------------------------------------------------------------
# causal_mask
# ---------------------------------------------------------------------------

class CausalMask(Check):
    name = "causal_mask"
    title = "causal_mask(L) for L = 1, 5, 64: (L, L) bool, True on and below the diagonal"

    SIZES = (1, 5, 64)

    def plan(self, p):
        return p.probe("causal", [Call(fn="causal_mask", args=(L,)) for L in self.SIZES])

    def judge(self, run, probe_id):
        for i, L in enumerate(self.SIZES):
            call = run.call(probe_id, i)
            value = call.value()
            what = f"`{call.description}`"
            t = expect_tensor(value, what=what, shape=(L, L), finite=False)
            if t.dtype != torch.bool:
                raise CheckFailure(f"{what}: wrong dtype.", expected="torch.bool", got=str(t.dtype),
                                   hint="Return a bool mask (True = may attend), e.g. "
                                        "`torch.ones(L, L, dtype=torch.bool).tril()`.")
            expected = reference_causal_mask(L)
            if torch.equal(t, expected):
                continue
            ones = torch.ones(L, L, dtype=torch.bool)
            hint = "Query i may attend to keys j <= i: True on and below the diagonal."
            if torch.equal(t, ones.triu()):
                hint = "This is the upper triangle: True must be on and BELOW the diagonal (`.tril()`)."
            elif torch.equal(t, ones.tril(-1)):
                hint = ("The diagonal must be True too: every position may attend to itself "
                        "(`.tril()`, not `.tril(-1)`).")
            elif torch.equal(t, ones.triu(1)):
                hint = ("This marks the positions to hide; the contract's mask is True where a query MAY attend "
                        "(on and below the diagonal).")
            wrong = (t != expected).nonzero()[0].tolist()
            raise CheckFailure(f"{what}: {int((t != expected).sum())} of {L * L} entries are wrong; the first at "
                               f"{wrong}: expected {bool(expected[tuple(wrong)])}.",
                               expected=show_tensor(expected, limit=12), got=show_tensor(t, limit=12), hint=hint)


# ---------------------------------------------------------------------------
# MultiHeadSelfAttention
# ---------------------------------------------------------------------------

def _mhsa_state(p: Planner, d_model: int) -> dict[str, torch.Tensor]:
    g = p.generator

    def randn(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).float()

    return {"qkv.weight": randn(3 * d_model, d_model, std=0.25), "qkv.bias": randn(3 * d_model, std=0.1),
            "proj.weight": randn(d_model, d_model, std=d_model ** -0.5), "proj.bias": randn(d_model, std=0.1)}


def _mhsa_expected(state, d_model, n_heads, x, mask):
    model = ReferenceMHSA(d_model, n_heads).double()
    model.load_state_dict({k: t.double() for k, t in state.items()})
    with torch.no_grad():
        return model(x.double(), mask)


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


def _plan_mhsa(p: Planner, probe_id: str, B: int, L: int, d_model: int, n_heads: int, mask) -> dict:
    state = _mhsa_state(p, d_model)
    x = p.randn(B, L, d_model)
    kwargs = {}
    m = None
    if mask is not None:
        m = p.add(mask)
        kwargs = {"mask": m}
    obj = {"type": "student_class", "name": "MultiHeadSelfAttention", "args": [d_model, n_heads], "state": state}
    p.probe(probe_id, [Call(object="mha", args=(x,), kwargs=kwargs)], objects={"mha": obj})
    return {"probe": probe_id, "state": state, "x": x.value, "mask": None if m is None else m.value,
            "d_model": d_model, "n_heads": n_heads, "B": B, "L": L}


def _mhsa_call(run: Run, probe_id: str, mask: torch.Tensor | None = None):
    """run.call, with a hint when the module could not be built or a mask did not broadcast."""
    try:
        return run.call(probe_id)
    except CheckFailure as failure:
        payload = run.probes.get(probe_id)
        if failure.hint is None and isinstance(payload, dict):
            if isinstance(payload.get("error"), dict):
                failure.hint = HINT_STATE
            elif mask is not None and "size of tensor" in failure.message:
                failure.hint = HINT_PER_HEAD if mask.dim() == 3 else (
                    "An (L, L) mask broadcasts against the (B, n_heads, L, L) logits as it is; only a (B, L, L) "
                    "mask needs `mask.unsqueeze(1)`.")
        raise


def _judge_mhsa(run: Run, planned: list[dict]) -> None:
    for case in planned:
        call = _mhsa_call(run, case["probe"], case["mask"])
        args = (case["state"], case["d_model"], case["n_heads"], case["x"], case["mask"])
        bugs = {HINT_SPLIT: _mhsa_variant(*args, split="wrong"), HINT_MERGE: _mhsa_variant(*args, merge="wrong"),
                HINT_NO_PROJ: _mhsa_variant(*args, proj=False), HINT_UNSCALED: _mhsa_variant(*args, scale="none"),
                HINT_SCALE_D: _mhsa_variant(*args, scale="d"), HINT_DIM: _mhsa_variant(*args, dim=-2)}
        if case["mask"] is not None:
            bugs[HINT_IGNORED] = _mhsa_variant(*args, mask_mode="ignored")
            bugs[HINT_INVERTED] = _mhsa_variant(*args, mask_mode="inverted")
            if case["mask"].dim() == 3:
                bugs[HINT_PER_HEAD] = _mhsa_variant(*args, mask_mode="repeat")
        what = (f"`{call.description}` (MultiHeadSelfAttention({case['d_model']}, {case['n_heads']}) with the "
                f"grader's weights)")
        _compare(call.value(), _mhsa_expected(*args), what=what, dtype=torch.float32, rtol=MHSA_RTOL,
                 atol=MHSA_ATOL, bugs=bugs,
                 hint="Follow the contract step by step: qkv, split, view/transpose into heads, attention per "
                      "head, transpose/reshape back, proj.")


class MhsaNoMask(Check):
    name = "mhsa_no_mask"
    title = "MultiHeadSelfAttention without a mask matches the reference (d_model 32 / 4 heads, 24 / 3 heads)"

    def plan(self, p):
        return [_plan_mhsa(p, "mhsa0", 2, 6, 32, 4, None), _plan_mhsa(p, "mhsa1", 3, 5, 24, 3, None)]

    def judge(self, run, planned):
        _judge_mhsa(run, planned)


class MhsaCausalMask(Check):
    name = "mhsa_causal_mask"
    title = "MultiHeadSelfAttention with an (L, L) causal mask shared by the batch"

    def plan(self, p):
        return [_plan_mhsa(p, "mhsa_causal", 2, 7, 32, 4, reference_causal_mask(7))]

    def judge(self, run, planned):
        _judge_mhsa(run, planned)


class MhsaBatchMask(Check):
    name = "mhsa_batch_mask"
    title = "MultiHeadSelfAttention with a (B, L, L) mask, one per sequence, applied to every head"

    def plan(self, p):
        return [_plan_mhsa(p, "mhsa_batch", 3, 6, 32, 4, _random_mask(p, 3, 6, 6, p_true=0.5))]

    def judge(self, run, planned):
        _judge_mhsa(run, planned)


# ---------------------------------------------------------------------------
# inputs unchanged
# ---------------------------------------------------------------------------

class InputsUnchanged(Check):
    name = "inputs_unchanged"
    title = "Does not modify q, k, v, mask (scaled_dot_product_attention) or x, mask (MultiHeadSelfAttention) in place"

    def plan(self, p):
        q, k, v = p.randn(2, 3, 5, 8), p.randn(2, 3, 7, 8), p.randn(2, 3, 7, 6)
        m = p.add(_random_mask(p, 2, 1, 5, 7))
        sdpa = p.probe("inplace_sdpa", [Call(fn=FN, args=(q, k, v, m))])
        mhsa = _plan_mhsa(p, "inplace_mhsa", 2, 6, 16, 2, _random_mask(p, 2, 6, 6, p_true=0.5))
        return sdpa, mhsa["probe"]

    def judge(self, run, planned):
        sdpa, mhsa = planned
        expect_unmutated(run.call(sdpa), {0: "q", 1: "k", 2: "v", 3: "mask"})
        payload = run.probes.get(mhsa)
        if run.import_error is None and isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            return ("MultiHeadSelfAttention could not be built (see the MHSA checks), so only "
                    "scaled_dot_product_attention was checked.")
        expect_unmutated(run.call(mhsa), {0: "x", "mask": "mask"})
        return None


CHECKS = [SdpaValues(), SdpaMasked(), SdpaFloat64(), ExtremeLogits(), ExtremeLogitsMasked(), SdpaGradients(),
          CausalMask(), MhsaNoMask(), MhsaCausalMask(), MhsaBatchMask(), InputsUnchanged()]
