"""State after a call: the parameters of objects (Call.record_state) against the reference's."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ..feedback import show_tensor
from .values import Tol, within

States = Mapping[str, Mapping[str, torch.Tensor]]  # object name -> parameter name -> tensor


def snapshot(**objects: torch.nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """Detached copies of the state_dicts of trusted-side objects, to compare with recorded state."""
    return {name: {k: v.detach().clone() for k, v in obj.state_dict().items()} for name, obj in objects.items()}


@dataclass
class StateDiff:
    """What differs between two states: (object, parameter, values that differ, values) per parameter."""

    got: States
    expected: States
    tol: Tol
    bad: list[tuple[str, str, int, int]]

    def __bool__(self) -> bool:
        return bool(self.bad)

    @property
    def objects(self) -> list[str]:
        return sorted({obj for obj, *_ in self.bad})

    @property
    def count(self) -> int:
        return sum(n for _, _, n, _ in self.bad)

    @property
    def total(self) -> int:
        return sum(t.numel() for params in self.expected.values() for t in params.values())

    def first(self) -> tuple[str, str, str]:
        """(detail, expected, got) of the first differing parameter, for a CheckFailure."""
        obj, name, *_ = self.bad[0]
        e, g = self.expected[obj][name], self.got[obj].get(name)
        if g is None or g.shape != e.shape:
            return (f"{obj}'s `{name}` is missing or has the wrong shape", show_tensor(e),
                    "missing" if g is None else show_tensor(g))
        index = tuple(int(i) for i in (~within(g, e, self.tol)).nonzero()[0])
        return (f"the first: {obj}'s `{name}` at index {list(index)}: expected {e[index].item():.7g}, "
                f"got {g[index].item():.7g}", show_tensor(e), show_tensor(g))


def compare_states(got: States, expected: States, tol: Tol) -> StateDiff:
    """Every parameter of `expected` (objects in sorted order) checked in `got`; missing or misshapen counts whole."""
    bad = []
    for obj in sorted(expected):
        for name, e in expected[obj].items():
            g = got.get(obj, {}).get(name)
            if g is None or g.shape != e.shape:
                bad.append((obj, name, e.numel(), e.numel()))
                continue
            n = int((~within(g, e, tol)).sum())
            if n:
                bad.append((obj, name, n, e.numel()))
    return StateDiff(got, expected, tol, bad)
