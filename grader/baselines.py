"""The reference solution of a training exercise graded like a submission: its training
block is the baseline the leaderboard shows beside the students' results."""
from __future__ import annotations

from .judge import grade
from .progress import JobWatch
from .sandbox import Sandbox
from .spec import Exercise

LABEL = "Reference solution"


class BaselineError(RuntimeError):
    """The reference solution did not train, sample and score cleanly."""


def compute_baseline(exercise: Exercise, profile: str | None, sandbox: Sandbox, watch: JobWatch | None = None) -> dict:
    if exercise.training is None:
        raise BaselineError(f"{exercise.slug} is not a training exercise")
    result = grade(exercise, "solution.py", exercise.solution().source().encode(), sandbox=sandbox, profile=profile,
                   watch=watch)
    if result.status != "graded" or result.training.get("fid") is None:
        raise BaselineError(f"{exercise.slug}: the reference solution did not produce a score "
                            f"({result.status}): {result.output[:2000]}")
    return {**result.training, "label": LABEL, "exercise_version": exercise.version}  # the block names the profile
