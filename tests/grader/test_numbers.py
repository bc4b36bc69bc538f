"""The one reading of a number from a result or a log (grader/numbers.py), used by judge and platform."""
import math

import numpy as np
import pytest

from grader.numbers import finite_or_none


@pytest.mark.parametrize("value, expected", [
    (3, 3.0), (-2.5, -2.5), (0, 0.0), (np.float64(1.5), 1.5), (2**60, float(2**60)),
    (True, None), (False, None), (None, None), ("1.0", None), ([1.0], None), ({}, None),
    (math.nan, None), (math.inf, None), (-math.inf, None), (np.float64("nan"), None),
])
def test_finite_numbers_only(value, expected):
    got = finite_or_none(value)
    assert got == expected and (got is None or type(got) is float)
