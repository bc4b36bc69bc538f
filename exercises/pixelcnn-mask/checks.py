"""Checks for PixelCNN's causal masks, the masked convolution and the NLL in bits/dim.

The student's `MaskedConv2d` is built inside the sandbox with its own (PyTorch default) initial
weights; the judge reads them back (`record_state`, before any forward runs: the first call of each
probe is a public one-unit MLP, so no student code runs before the weights are recorded) and
computes the expected output as conv2d(x, weight * mask, bias) in float64 with the reference mask.
Causality is judged by the gradient of one output pixel with respect to the whole input (the
student's own weights): nonzero exactly on the receptive field of the reference masks (for one layer
the mask: never after the pixel in raster order, nor the pixel itself for type A), in every input
channel, and zero in every other image of the batch. The same for stacks of the student's layers
(type A, then type B, leaky ReLU between; weights written by the grader, ±1000 where masked), whose
receptive field, the composition of the masks, is computed from all-ones masked weights on the
trusted side: every path counts positively, so no cancellation hides a pixel. Leaky ReLU never
zeroes a path, so a correct stack's gradient is nonzero on the whole field.

Tolerances: conv outputs sum <= 3 * 49 products of O(1) terms: a float32 computation is within
~1e-6, rtol 1e-4, atol 1e-5. The NLL: float32 rtol 1e-4, atol 1e-5 (a mean of <= 120
cross-entropies, each a log-sum-exp of 256 terms), float64 rtol 1e-9, atol 1e-9.
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
    Planner,
    Tol,
    autograd_grads,
    expect_gradients,
    expect_tensor,
    expect_values,
    f64,
    first_match,
    show_tensor,
    untrusted,
)
from grader.checks import Unchanged as UnchangedCall
from reference_models.pixelcnn import causal_conv_mask as reference_mask
from reference_models.pixelcnn import pixel_nll_bits_per_dim as reference_nll

MASK, LAYER, NLL = "causal_conv_mask", "MaskedConv2d", "pixel_nll_bits_per_dim"
CONV_TOL = Tol(1e-4, 1e-5)
NLL_TOL = {torch.float32: Tol(1e-4, 1e-5), torch.float64: Tol(1e-9, 1e-9)}
MASK_HINT = ("1 on every row above the centre row and on the centre row left of the centre; the centre is 1 for "
             "'B' and 0 for 'A'; 0 on the centre row right of the centre and on every row below.")


def _other(mask_type: str) -> str:
    return "B" if mask_type == "A" else "A"


def _whole_centre_row(k: int, t: str) -> torch.Tensor:
    m = reference_mask(k, t)
    m[k // 2] = 1
    m[k // 2, k // 2] = float(t == "B")
    return m


# Other masks a typical bug builds: (hint, mask(k, type)).
MASK_BUGS = [
    ("Types A and B are swapped: A hides the centre pixel (first layer), B lets it through.",
     lambda k, t: reference_mask(k, _other(t))),
    ("On the centre row only the pixels left of the centre are seen (the right ones come later in raster order).",
     _whole_centre_row),
    ("The mask is transposed: rows are the first index (above = smaller row index), columns the second.",
     lambda k, t: reference_mask(k, t).T),
    ("The mask is mirrored: 1s belong above and to the left of the centre (pixels that come before it), not below "
     "and to the right.", lambda k, t: reference_mask(k, t).flip(0).flip(1)),
    ("Not a triangle: every row above the centre is fully visible, its right part included (torch.tril is not "
     "this pattern).", lambda k, t: torch.tril(torch.ones(k, k), diagonal=0 if t == "B" else -1)),
    ("No mask at all: the layer then sees the future.", lambda k, t: torch.ones(k, k)),
]


def _mask_bug(got: torch.Tensor, k: int, t: str) -> str | None:
    bugs = [(h, fn(k, t)) for h, fn in MASK_BUGS]
    return first_match(got, bugs, lambda g, v: g.shape == v.shape and torch.equal(g.double(), v.double()),
                       expected=reference_mask(k, t), differs=lambda v, e: not torch.equal(v, e))


class MaskValues(Check):
    name = "mask_values"
    title = "causal_conv_mask gives the type-A and type-B patterns for kernel sizes 1, 3, 5 and 7 (float32)"
    CASES = [(k, t) for k in (1, 3, 5, 7) for t in ("A", "B")]

    def plan(self, p: Planner):
        return [(p.call(f"mask_{k}{t}", MASK, k, t), k, t) for k, t in self.CASES]

    def judge(self, run, planned):
        for probe, k, t in planned:
            call = run.call(probe)
            got = expect_tensor(call.value(), what=f"`{call.description}`", shape=(k, k), dtype=torch.float32)
            expected = reference_mask(k, t)
            if not torch.equal(got, expected):
                bad = (got != expected).nonzero()[0].tolist()
                raise CheckFailure(f"`{call.description}`: wrong pattern; the first difference at row {bad[0]}, "
                                   f"column {bad[1]}.", expected=f"`{expected.int().tolist()}`",
                                   got=show_tensor(got, limit=k * k), hint=_mask_bug(got, k, t) or MASK_HINT)
        return None


def _raised(run, probe: str) -> str | None:
    """The exception type a probe's set-up (building the layer) or its first call raised; None if it returned."""
    payload = run.probes.get(probe)
    if run.import_error is not None or not isinstance(payload, dict):
        run.call(probe)  # raises the CheckFailure that says why nothing ran
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("type", "Error"))[:100]
    call = run.call(probe, allow_error=True)
    return None if call.raw.get("ok") is True else str((call.raw.get("error") or {}).get("type", "Error"))[:100]


class BadArguments(Check):
    name = "bad_arguments_raise"
    title = "An even kernel_size or a mask_type other than 'A'/'B' raises ValueError (function and layer)"
    BAD = [(4, "A"), (2, "B"), (3, "a"), (5, "C")]

    def plan(self, p: Planner):
        x = p.randn(1, 2, 4, 4)
        out = []
        for i, (k, t) in enumerate(self.BAD):
            out.append((p.call(f"bad_mask{i}", MASK, k, t), f"{MASK}({k}, {t!r})"))
            layer = {"type": "student_class", "name": LAYER, "args": [t, 2, 2, k]}
            out.append((p.probe(f"bad_layer{i}", [Call(object="layer", args=(x,))], objects={"layer": layer}),
                        f"{LAYER}({t!r}, 2, 2, {k})"))
        return out

    def judge(self, run, planned):
        for probe, what in planned:
            kind = _raised(run, probe)
            if kind != "ValueError":
                got = "it returned normally" if kind is None else f"it raised {untrusted(kind)}"
                raise CheckFailure(f"`{what}` should raise ValueError; {got}.",
                                   hint="Check the arguments first: `if mask_type not in ('A', 'B') or kernel_size % 2 "
                                        "== 0: raise ValueError(...)`.")
        return None


# ---------------------------------------------------------------------------------------------
# MaskedConv2d

def _plan_layer(p: Planner, probe: str, t: str, cin: int, cout: int, k: int, calls) -> str:
    objects = {"probe_net": {"type": "mlp", "sizes": [1, 1], "activation": "tanh", "out_activation": None},
               "layer": {"type": "student_class", "name": LAYER, "args": [t, cin, cout, k]}}
    first = Call(object="probe_net", args=(p.randn(1, 1),), record_state=("layer",))  # the weights before forward
    return p.probe(probe, [first, *calls], objects=objects)


def _initial_weights(run, probe: str, cin: int, cout: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    call = run.call(probe, 0)
    state = call.state("layer")
    for key, shape in (("weight", (cout, cin, k, k)), ("bias", (cout,))):
        if key not in state or tuple(state[key].shape) != shape:
            raise CheckFailure(f"`{LAYER}` has no `{key}` of shape {shape} in its state_dict.",
                               hint="Subclass torch.nn.Conv2d and call super().__init__(in_channels, out_channels, "
                                    "kernel_size, padding=kernel_size // 2): weight and bias stay its Parameters.")
    return state["weight"].double(), state["bias"].double()


class ConvValues(Check):
    name = "conv_values"
    title = ("MaskedConv2d(x) equals conv2d(x, weight * mask, bias, padding=k // 2) with its own weights "
             "(types A and B, k = 1, 3, 5, 7, several channel counts, non-square images)")
    CASES = [("A", 1, 4, 3, (2, 1, 5, 6)), ("B", 4, 4, 3, (2, 4, 6, 5)), ("A", 3, 2, 5, (1, 3, 7, 8)),
             ("B", 2, 5, 7, (2, 2, 8, 9)), ("A", 2, 3, 1, (2, 2, 3, 4)), ("B", 3, 2, 1, (1, 3, 4, 3))]

    def plan(self, p: Planner):
        out = []
        for i, (t, cin, cout, k, shape) in enumerate(self.CASES):
            x = p.randn(*shape)
            out.append((_plan_layer(p, f"conv{i}", t, cin, cout, k, [Call(object="layer", args=(x,))]),
                        t, cin, cout, k, x.value))
        return out

    def judge(self, run, planned):
        for probe, t, cin, cout, k, x in planned:
            w, b = _initial_weights(run, probe, cin, cout, k)
            call = run.call(probe, 1)
            x64 = x.double()

            def conv(mask, w=w, b=b, x64=x64, k=k):
                return F.conv2d(x64, w * mask.double(), b, padding=k // 2)

            bugs = {h: conv(fn(k, t)) for h, fn in MASK_BUGS}
            what = f"`MaskedConv2d({t!r}, {cin}, {cout}, {k})` on x {tuple(x.shape)}"
            expect_values(call.value(), conv(reference_mask(k, t)), what=what, tol=CONV_TOL, dtype=torch.float32,
                          known_bugs=bugs, hint="forward(x) = F.conv2d(x, self.weight * mask, self.bias, "
                                                "padding=kernel_size // 2), with the (k, k) mask of causal_conv_mask.",
                          shape_hint="Stride 1 and zero padding kernel_size // 2 keep the image's height and width.")
        return None


class ConvMaskedWeightsIgnored(Check):
    """The contract's promise: whatever the masked weights hold (written in place after construction, as a
    training step would) the output does not see them. A layer that zeroes them once in __init__ and then
    runs a plain convolution fails here, and nowhere else."""

    name = "conv_masked_weights_ignored"
    title = ("MaskedConv2d ignores its masked weights whatever values they hold: weights of ±1000 written into "
             "`weight` after construction (types A and B) change nothing at the masked positions")
    CASES = [("A", 2, 3, 3, (2, 2, 5, 5)), ("B", 3, 2, 5, (1, 3, 6, 7))]

    def plan(self, p: Planner):
        out = []
        for i, (t, cin, cout, k, shape) in enumerate(self.CASES):
            hidden = 1 - reference_mask(k, t).double()
            w = p.randn(cout, cin, k, k).value.double() * (1 + 999 * hidden)  # the masked weights are ±1000
            b, x = p.randn(cout), p.randn(*shape)
            layer = {"type": "student_class", "name": LAYER, "args": [t, cin, cout, k],
                     "params": {"weight": w.float(), "bias": b.value}}
            probe = p.probe(f"masked_weights{i}", [Call(object="layer", args=(x,))], objects={"layer": layer})
            out.append((probe, t, cin, cout, k, w.float().double(), b.value.double(), x.value.double()))
        return out

    def judge(self, run, planned):
        for probe, t, cin, cout, k, w, b, x in planned:
            expected = F.conv2d(x, w * reference_mask(k, t).double(), b, padding=k // 2)
            expect_values(run.call(probe, 0).value(), expected, tol=CONV_TOL, dtype=torch.float32,
                          what=f"`MaskedConv2d({t!r}, {cin}, {cout}, {k})` after `weight` was overwritten",
                          known_bugs={"The masked weights reach the output: the mask is applied once (in __init__?) "
                                      "and not in every forward.": F.conv2d(x, w, b, padding=k // 2)},
                          hint="Multiply by the mask in forward, every time: F.conv2d(x, self.weight * self.mask, "
                               "self.bias, padding=...). The weights change after construction (every optimiser "
                               "step writes them).")
        return None


def _receptive_field(layers, H: int, W: int, i: int, j: int) -> torch.Tensor:
    """(H, W) bool: the input pixels output pixel (i, j) of a stack of masked convolutions (type, k) can see
    with the contract's masks. Linear layers of all-ones masked weights on a zero input: every path counts
    positively, so the gradient is exactly the number of paths from each input pixel (no cancellation)."""
    x = torch.zeros(1, 1, H, W, dtype=torch.float64, requires_grad=True)
    h = x
    for t, k in layers:
        h = F.conv2d(h, reference_mask(k, t).double()[None, None], padding=k // 2)
    return torch.autograd.grad(h[0, 0, i, j], x)[0][0, 0] > 0


def _stack_name(layers) -> str:
    return " -> ".join(f"{LAYER}({t!r}, k={k})" for t, k in layers)


class ConvCausal(Check):
    """The gradient of output pixel (i, j) of image 0 (random weights on every output channel) with respect
    to the whole input: nonzero exactly on the receptive field the contract's masks give (for one layer the
    mask itself: the pixels before (i, j), and (i, j) for type B), in every input channel, and zero in
    every other image of the batch. Here each layer keeps its own initial weights."""

    name = "conv_causal"
    title = ("MaskedConv2d is causal: the gradient of an output pixel is zero at every input pixel after it in "
             "raster order (and at the pixel itself for type A), in every channel")
    # (layers [(type, k)], channels [in, hidden..., out], x shape, output pixels)
    CASES = [([("A", 5)], [2, 3], (2, 2, 6, 7), [(0, 0), (2, 3), (5, 6), (3, 0), (1, 6)]),
             ([("B", 3)], [3, 3], (2, 3, 5, 5), [(0, 0), (2, 2), (4, 4), (3, 0), (0, 4)]),
             ([("A", 7)], [1, 2], (1, 1, 4, 9), [(1, 4), (3, 8), (0, 8)])]
    write_weights = False  # True: weights drawn here, ±1000 at the masked positions, written into every layer

    def _objects(self, p: Planner, layers, channels) -> dict:
        objects: dict = {}
        names = []
        for n, ((t, k), cin, cout) in enumerate(zip(layers, channels[:-1], channels[1:], strict=True)):
            spec: dict = {"type": "student_class", "name": LAYER, "args": [t, cin, cout, k]}
            if self.write_weights:
                hidden = 1 - reference_mask(k, t).double()
                w = p.randn(cout, cin, k, k).value.double() / math.sqrt(cin * k * k) * 2
                w = torch.where(hidden.bool(), torch.sign(w) * 1000, w)  # the masked weights are ±1000
                spec["params"] = {"weight": w.float(), "bias": p.randn(cout, std=0.3).value}
            objects[f"layer{n}"] = spec
            names.append(f"layer{n}")
            if n < len(layers) - 1:
                objects[f"act{n}"] = {"type": "activation", "name": "leaky_relu"}
                names.append(f"act{n}")
        if len(layers) > 1:
            objects["stack"] = {"type": "sequential", "layers": names}
        return objects

    def plan(self, p: Planner):
        out = []
        for n, (layers, channels, shape, pixels) in enumerate(self.CASES):
            objects = self._objects(p, layers, channels) if self.write_weights else {}
            target = "stack" if len(layers) > 1 else "layer0" if self.write_weights else "layer"
            x = p.randn(*shape)
            calls = []
            for i, j in pixels:
                upstream = torch.zeros(shape[0], channels[-1], shape[2], shape[3])
                upstream[0, :, i, j] = torch.randn(channels[-1], generator=p.generator, dtype=torch.float64).float()
                calls.append(Call(object=target, args=(x,), grad_wrt=(0,), upstream=p.add(upstream)))
            if self.write_weights:
                probe = p.probe(f"{self.name}{n}", calls, objects=objects)
            else:  # the layer's own weights: a public one-unit MLP runs first, as in the other probes
                probe = _plan_layer(p, f"{self.name}{n}", layers[0][0], channels[0], channels[1], layers[0][1], calls)
            out.append((probe, layers, channels, shape, pixels))
        return out

    def judge(self, run, planned):
        for probe, layers, channels, shape, pixels in planned:
            B, C, H, W = shape
            raster = torch.arange(H * W).view(H, W)
            if len(layers) == 1:
                t, k = layers[0]
                what = f"`MaskedConv2d({t!r}, {channels[0]}, {channels[1]}, {k})` on x {tuple(shape)}"
            else:
                what = f"the stack {_stack_name(layers)} (leaky ReLU between layers) on x {tuple(shape)}"
            grads = []
            for n, (i, j) in enumerate(pixels, start=0 if self.write_weights else 1):
                g = run.call(probe, n).grad(0)
                if g is None or tuple(g.shape) != tuple(shape):
                    raise CheckFailure(f"{what}: no gradient of output pixel ({i}, {j}) reached x.",
                                       hint="forward must be differentiable: no .detach() or torch.no_grad().")
                grads.append((g.double(), _receptive_field(layers, H, W, i, j), i, j))
            for missing in (False, True):  # what it must not see first, then what it should see and does not
                for g, expected, i, j in grads:
                    self._judge_pixel(g, expected, raster, what, layers, i, j, missing=missing)
        return None

    def _judge_pixel(self, g, expected, raster, what, layers, i, j, *, missing: bool) -> None:
        first = layers[0][0]
        hint = MASK_HINT + " Multiply the weight by the mask in every forward."
        if len(layers) > 1:
            hint = ("Each layer must use its own mask, of its own type and size, in every forward: keep mask_type and "
                    "the mask on the instance (self.register_buffer('mask', ...)), not on the class or the module. "
                    + hint)
        others = g[1:].abs().flatten(1).sum(1).nonzero()
        if len(others) and not missing:
            raise CheckFailure(f"{what}: output pixel ({i}, {j}) of image 0 depends on image {int(others[0]) + 1} of "
                               "the batch: each image must be processed on its own.",
                               hint="A convolution never mixes the images of a batch: no reshaping across dim 0.")
        for c in range(g.shape[1]):
            seen = g[0, c] != 0
            leaks = (seen & ~expected).nonzero()
            if len(leaks) and not missing:
                r, q = leaks[0].tolist()
                future = raster[r, q] >= raster[i, j] if first == "A" else raster[r, q] > raster[i, j]
                which = "itself" if (r, q) == (i, j) else f"input pixel ({r}, {q})"
                why = (f"which comes {'at or ' if first == 'A' else ''}after it in raster order: a type-{first} "
                       f"{'first layer' if len(layers) > 1 else 'layer'} must not see it" if future else
                       "which comes before it, but is outside what these masks let it see")
                raise CheckFailure(f"{what}: output pixel ({i}, {j}) depends on {which} (input channel {c}), {why} "
                                   f"({len(leaks)} such input pixels in this channel).", hint=hint)
            unseen = (expected & ~seen).nonzero()
            if len(unseen) and missing:
                r, q = unseen[0].tolist()
                raise CheckFailure(f"{what}: output pixel ({i}, {j}) does not depend on input pixel ({r}, {q}) "
                                   f"(input channel {c}), which these masks let it see ({len(unseen)} such input "
                                   "pixels in this channel): the layers see less than the contract's masks allow.",
                                   hint=hint)


class ConvCausalStacked(ConvCausal):
    """The same judgement for stacks of the student's layers (a type-A first layer, type-B layers after it,
    leaky ReLU between them), each layer's weights written here with ±1000 at the masked positions: only
    pixels strictly before (i, j) reach output pixel (i, j), and exactly those the masks' composition
    reaches (the stack's receptive field, with PixelCNN's blind spot)."""

    name = "conv_causal_stacked"
    title = ("A stack of MaskedConv2d layers (type A first, then type B, leaky ReLU between them) is causal: with "
             "written weights of ±1000 at the masked positions, output pixel (i, j) depends exactly on the input "
             "pixels the masks' composition reaches, all strictly before (i, j) in raster order, in every channel")
    CASES = [([("A", 5), ("B", 3), ("B", 3)], [2, 3, 3, 2], (2, 2, 8, 9),
              [(0, 0), (0, 8), (3, 4), (7, 8), (5, 0), (2, 7), (7, 0)]),
             ([("A", 3), ("B", 5)], [1, 4, 3], (1, 1, 7, 6), [(6, 5), (3, 3), (0, 5), (4, 0)]),
             ([("A", 7), ("B", 1), ("B", 3)], [3, 2, 2, 3], (2, 3, 6, 6), [(5, 5), (2, 2), (0, 3)])]
    write_weights = True


# ---------------------------------------------------------------------------------------------
# pixel_nll_bits_per_dim

def _ce(logits, x):
    return F.cross_entropy(logits, x, reduction="none")  # (B, C, H, W) nats


NLL_BUGS = KnownBugs({
    "Bits, not nats: divide by ln 2 as well.": lambda lg, x: reference_nll(lg, x) * math.log(2),
    "Per dimension: divide each image's summed cross-entropy by C * H * W.":
        lambda lg, x: reference_nll(lg, x) * x[0].numel(),
    "Divide by every sub-pixel, C * H * W, not only by the H * W pixels.":
        lambda lg, x: reference_nll(lg, x) * x.shape[1],
    "Average over the batch, not sum.": lambda lg, x: reference_nll(lg, x) * len(x),
    "The 256 values are dimension 1 of the logits: logits.reshape(-1, 256) pairs values of different pixels; "
    "cross_entropy(logits, x) with logits (B, 256, C, H, W) and x (B, C, H, W) needs no reshaping.":
        lambda lg, x: _ce(lg.reshape(-1, 256), x.reshape(-1)).mean() / math.log(2),
})


class NllValues(Differential):
    name, fn = "nll_values", NLL
    title = "pixel_nll_bits_per_dim matches the reference (C = 1 and 3, non-square images, float32 and float64)"
    cases = [((2, 1, 4, 4), torch.float32), ((3, 3, 2, 5), torch.float32), ((1, 1, 1, 1), torch.float32),
             ((2, 3, 3, 3), torch.float64)]
    tolerances, bugs, scalar = NLL_TOL, NLL_BUGS, True
    hint = ("F.cross_entropy(logits, x, reduction='none') is (B, C, H, W) in nats: sum each image's, divide by "
            "C * H * W * ln 2, then average over the batch.")

    def inputs(self, p, case):
        shape, dtype = case
        b, c, h, w = shape
        return p.randn(b, 256, c, h, w, dtype=dtype, std=3.0), p.randint(0, 256, *shape)

    def reference(self, logits, x):
        return reference_nll(logits, x)


class NllStable(Differential):
    name, fn = "nll_stable", NLL
    title = "pixel_nll_bits_per_dim is finite and exact for logits in [-100, 100], including exactly ±100"
    cases = [(2, 1, 3, 3), (1, 3, 2, 2)]
    tolerances, bugs, scalar, hint = NLL_TOL, NLL_BUGS, True, NllValues.hint
    nonfinite_hint = ("Work from log-probabilities: F.cross_entropy or log_softmax; softmax(logits).log() "
                      "underflows (exp(-200) is 0 in float32, so its log is -inf).")

    def inputs(self, p, case):
        b, c, h, w = case
        logits = torch.rand(b, 256, c, h, w, generator=p.generator, dtype=torch.float64) * 200 - 100
        u = torch.rand(b, 256, c, h, w, generator=p.generator, dtype=torch.float64)
        logits = torch.where(u < 0.05, -100.0, torch.where(u > 0.95, 100.0, logits)).float()
        x = torch.randint(0, 256, case, generator=p.generator)
        flat = logits.movedim(1, -1).reshape(-1, 256)
        flat[0] = -100.0  # one pixel where its target is certain and every other value impossible
        flat[0, x.reshape(-1)[0]] = 100.0
        return p.add(flat.reshape(b, c, h, w, 256).movedim(-1, 1)), p.add(x)

    def reference(self, logits, x):
        return reference_nll(logits, x)


class NllGradients(Check):
    name = "nll_gradients"
    title = "The gradient of pixel_nll_bits_per_dim with respect to the logits matches the reference"

    def plan(self, p: Planner):
        logits, x = p.randn(2, 256, 2, 3, 2, std=2.0), p.randint(0, 256, 2, 2, 3, 2)
        return p.probe("nll_gradients", [Call(fn=NLL, args=(logits, x), grad_wrt=(0,))]), f64(logits, x)

    def judge(self, run, planned):
        probe, args = planned
        expected = autograd_grads(reference_nll, args, (0,))[0]
        expect_gradients(run.call(probe), {0: expected}, names={0: "logits"}, tol=Tol(1e-4, 1e-7),
                         what="d(pixel_nll_bits_per_dim)/d{name}",
                         hint="d/d logits = (softmax(logits) - one_hot(x)) / (B * C * H * W * ln 2).")
        return None


class Unchanged(InputsUnchanged):
    title = "No function modifies its inputs, and MaskedConv2d's forward leaves its weight and bias as they were"

    def plan(self, p: Planner):
        x = p.randn(2, 2, 5, 5)
        layer = _plan_layer(p, "inplace_layer", "A", 2, 3, 3,
                                 [Call(object="layer", args=(x,), record_state=("layer",)),
                                  Call(object="layer", args=(x,), record_state=("layer",))])
        logits, target = p.randn(2, 256, 1, 2, 2), p.randint(0, 256, 2, 1, 2, 2)
        return [UnchangedCall(layer, ("x",), 1), UnchangedCall(layer, ("x",), 2),
                UnchangedCall(p.call("inplace_nll", NLL, logits, target), ("logits", "x"))], layer

    def judge(self, run, planned):
        unchanged, probe = planned
        super().judge(run, unchanged)
        before = run.call(probe, 0).state("layer")
        for n in (1, 2):
            call = run.call(probe, n)
            after = call.state("layer")
            for key in ("weight", "bias"):
                if key in before and not torch.equal(after.get(key, torch.empty(0)), before[key]):
                    raise CheckFailure(f"MaskedConv2d's forward (call {n}) changed its `{key}`.",
                                       hint="Multiply into a new tensor: F.conv2d(x, self.weight * self.mask, ...); "
                                            "never write into self.weight (no .data *= mask, no .mul_()).")
        return None


CHECKS = [MaskValues(), BadArguments(), ConvValues(), ConvMaskedWeightsIgnored(), ConvCausal(), ConvCausalStacked(),
          NllValues(), NllStable(), NllGradients(), Unchanged()]
