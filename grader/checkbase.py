"""The base class of every check, in a leaf module with no torch: the exercise spec (and the web
process that reads specs' metadata) can name it without importing the check library."""
from __future__ import annotations

from typing import Any


class Check:
    """Base class: set `name` (matches exercise.toml) and `title` (one line, what is tested).

    A check plans probes on the trusted side (`plan`) and judges what came back (`judge`),
    raising CheckFailure with a student-facing message to fail."""

    name: str = ""
    title: str = ""

    def plan(self, p) -> Any:
        return None

    def judge(self, run, planned: Any) -> str | None:
        """Raise CheckFailure to fail; optionally return a short note for a pass."""
        raise NotImplementedError
