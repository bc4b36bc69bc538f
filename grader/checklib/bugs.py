"""Known bugs: a table from a bug simulator to the hint a student reads when their output matches it.

Pass or fail is decided only against the reference; the table only names the likely bug.
A simulator is a function of the same inputs as the reference (float64 copies). The order
is the order of preference: the first matching entry names the bug.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


class KnownBugs:
    """`KnownBugs({hint: simulator, ...})`; calling it on inputs gives {hint: what the bug returns}."""

    def __init__(self, table: Mapping[str, Callable] | Iterable[tuple[str, Callable]] = ()):
        self.table: list[tuple[str, Callable]] = list(table.items() if isinstance(table, Mapping) else table)

    def __call__(self, *args, **kwargs) -> dict[str, Any]:
        """What each bug returns on these inputs; a simulator that cannot run on them (RuntimeError) names nothing."""
        out = {}
        for hint, simulate in self.table:
            try:
                out.setdefault(hint, simulate(*args, **kwargs))
            except RuntimeError:
                continue
        return out

    def __add__(self, other: KnownBugs) -> KnownBugs:
        return KnownBugs(self.table + other.table)

    def __len__(self) -> int:
        return len(self.table)

    def items(self):
        return iter(self.table)


def first_match(got, bugs: Mapping[str, Any] | Iterable[tuple[str, Any]], matches: Callable[[Any, Any], bool],
                expected=None, differs: Callable[[Any, Any], bool] | None = None) -> str | None:
    """The hint of the first bug whose value `matches(got, value)`; with `differs`, only bugs whose value
    differs from `expected` count (a bug that the inputs cannot tell from the reference names nothing)."""
    for hint, value in (bugs.items() if isinstance(bugs, Mapping) else bugs):
        if differs is not None and not differs(value, expected):
            continue
        if matches(got, value):
            return hint
    return None
