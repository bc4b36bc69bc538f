"""Grading one submission: materialise it as text, then grade it as its exercise asks: a
function exercise through grader/probe_grading.py, a training exercise through
grader/training.py. Both are built from the steps of grader/pipeline.py.
"""
from __future__ import annotations

import time

import torch

from .materialize import SubmissionError, materialize
from .pipeline import failed_everywhere
from .probe_grading import grade_probes
from .progress import JobWatch
from .result import Result
from .sandbox import Sandbox
from .spec import Exercise
from .untrusted import collecting

DEFAULT_SEED = 20261122


def grade(exercise: Exercise, filename: str, data: bytes, *, sandbox: Sandbox, seed: int = DEFAULT_SEED,
          profile: str | None = None, watch: JobWatch | None = None, artifacts: dict | None = None) -> Result:
    """Grade one submission. A training exercise goes through grader.training under `profile`
    (default "cpu"); other exercises ignore it. `watch` receives a training job's progress, and
    setting its `cancelled` event stops the grading: the sandbox is removed and Cancelled raised.
    `artifacts`, if given, receives what a training grading produced beside its result: "checkpoint",
    the validated safetensors bytes that train() returned (the private leaderboard samples it again).
    What the submission controls in the feedback travels beside it (grader/untrusted.py)."""
    with collecting() as registry:
        return _grade(exercise, filename, data, sandbox=sandbox, seed=seed, profile=profile,
                      watch=watch, artifacts=artifacts if artifacts is not None else {}).with_untrusted(registry)


def _grade(exercise: Exercise, filename: str, data: bytes, *, sandbox: Sandbox, seed: int, profile: str | None,
           watch: JobWatch | None, artifacts: dict) -> Result:
    started = time.monotonic()
    provenance = {"exercise": exercise.slug, "exercise_version": exercise.version, "seed": seed,
                  "sandbox": sandbox.name, "judge_torch": torch.__version__}
    try:
        source = materialize(filename, data)
    except SubmissionError as exc:
        return failed_everywhere(exercise, "error", str(exc), started, provenance)
    if exercise.training is not None:
        from .training import grade_training  # the metric stack (PIL, the FID features) only for training

        return grade_training(exercise, source, sandbox=sandbox, seed=seed, profile=profile, started=started,
                              provenance=provenance, watch=watch or JobWatch(), artifacts=artifacts)
    return grade_probes(exercise, source, sandbox=sandbox, seed=seed, started=started, provenance=provenance,
                        watch=watch)
