"""The one test of a number read from a result, a log or a sandbox's output: a finite int or float
(never a bool), as a float, else None. The judge and the platform both read numbers through it, so a
value is judged the same way wherever it is read (no torch here: the web process imports it)."""
from __future__ import annotations

import math


def finite_or_none(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
