"""Gradients: the reference's (by autograd in float64) and the check that the student's match."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from ..feedback import CheckFailure, show_tensor
from .values import Tol, close, expect_close

MISSING_HINT = ("Keep the computation differentiable: do not use `.item()`, `.detach()`, `torch.no_grad()` or "
                "`torch.tensor(...)` on the way to the result.")


def autograd_grads(fn: Callable, args: Sequence, wrt: Sequence[int], upstream: torch.Tensor | None = None
                   ) -> list[torch.Tensor]:
    """d(sum(upstream * fn(*args)))/d args[i] for i in wrt, in float64 (zeros where fn ignores an argument)."""
    args = [a.detach().double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
    leaves = [args[i].requires_grad_(True) for i in wrt]
    out = fn(*args)
    grads = torch.autograd.grad(out, leaves, grad_outputs=None if upstream is None else upstream.double(),
                                allow_unused=True)
    return [torch.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, grads, strict=True)]


def bug_grads(bugs: Mapping[str, Callable] | object, args: Sequence, wrt: Sequence[int],
              upstream: torch.Tensor | None = None) -> dict[str, list[torch.Tensor]]:
    """The gradients of every bug simulator in a KnownBugs table (or {hint: fn}) on the same inputs."""
    out = {}
    for hint, fn in bugs.items():
        try:
            out.setdefault(hint, autograd_grads(fn, args, wrt, upstream))
        except RuntimeError:  # a simulator that cannot run (or is not differentiable) here names nothing
            continue
    return out


def expect_gradients(call, expected: Mapping[int | str, torch.Tensor], *, names: Mapping[int | str, str],
                     tol: Tol, what: str = "d(output)/d{name}", hint: str | Mapping | None = None,
                     missing_hint: str | Mapping | None = MISSING_HINT,
                     known_bugs: Mapping[str, Sequence[torch.Tensor]] | None = None) -> None:
    """Fail unless the gradient of every argument in `expected` (keys as in Call.grad_wrt) came back and
    is within tol of it. `what` is formatted with the argument's name and the call's description.

    A bug in known_bugs (hint -> its gradients, in the order of `expected`) is named only if it
    explains every gradient; `hint`/`missing_hint` may be one text or one per argument."""
    got = {}
    for key, name in names.items():
        grad = call.grad(key)
        if grad is None:
            raise CheckFailure(f"No gradient reached `{name}` through `{call.description}`.",
                               expected=show_tensor(expected[key]), got="no gradient", hint=_pick(missing_hint, key))
        got[key] = grad
    keys = list(expected)
    bug = None
    if known_bugs and not all(close(got[k], expected[k], tol) for k in keys):
        bug = next((h for h, grads in known_bugs.items()
                    if all(close(got[k], g, tol) for k, g in zip(keys, grads, strict=True))), None)
    for key in keys:
        expect_close(got[key], expected[key], what=what.format(name=names[key], call=call.description),
                     rtol=tol.rtol, atol=tol.atol, hint=bug or _pick(hint, key))


def _pick(text: str | Mapping | None, key) -> str | None:
    return text.get(key) if isinstance(text, Mapping) else text
