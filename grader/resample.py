"""Sampling a graded training submission again, for the private leaderboard.

After the deadline the instructor reveals the private board: each entry's stored checkpoint goes
through the sampling sandbox once more, with a seed that did not exist before the reveal, and the
samples are scored against the held-back part of the reference data (`part="private"`). The same
sandbox, validation and scoring as a grading (grader/training.py); no training and no checks.
A race samples the weights it raced (stored as the entry's checkpoint) again.
A likelihood board needs no sandbox: the judge scores the stored weights' bits/dim on the
held-back part of the test split.
"""
from __future__ import annotations

from .materialize import materialize
from .progress import JobWatch
from .race import score_race
from .sandbox import Sandbox
from .spec import Exercise
from .training import _sample, _score, score_likelihood
from .training_data import prepare_training_split
from .training_outputs import TrainingOutcome
from .untrusted import collecting, resolve_plain


class ResampleError(RuntimeError):
    """Sampling or scoring the stored checkpoint failed; the message is for the instructor and the student."""


def resample(exercise: Exercise, filename: str, data: bytes, checkpoint: bytes, *, sandbox: Sandbox, seed: int,
             profile: str | None, part: str = "private", watch: JobWatch | None = None) -> dict:
    """The training block's scores (FID with its interval, KID, fidelity, class shares, memorisation) of
    `checkpoint` sampled with `seed` by the submission's `sample()`, against `part` of the reference data."""
    training = exercise.training
    if training is None:
        raise ResampleError(f"{exercise.slug} is not a training exercise")
    chosen = training.profile(profile)
    outcome = TrainingOutcome(chosen, metric=training.metric)
    if training.likelihood is not None:  # no sandbox: the judge scores the weights on the held-back part
        with collecting() as registry:
            score_likelihood(outcome, training, chosen, checkpoint, seed, part=part)
        if outcome.likelihood is None:
            raise ResampleError(f"Scoring again failed: {resolve_plain(outcome.likelihood_problem, registry)}"[:2000])
        return _private_block(outcome, part)
    source = materialize(filename, data)
    split = prepare_training_split(training.dataset)
    timings: dict = {}
    with collecting() as registry:
        sampled = _sample(exercise, source, training, chosen, checkpoint, split, sandbox, seed, outcome, timings,
                          watch or JobWatch(), None)
        if sampled.status != "graded" or outcome.samples is None:
            problem = sampled.message or outcome.samples_problem or "no samples came back"
            raise ResampleError(f"Sampling again failed ({sampled.status}): {resolve_plain(problem, registry)}"[:2000])
    if training.race is not None:  # the same race on the same weights, the stored checkpoint
        score_race(outcome, training, chosen, part=part)
    else:
        _score(outcome, training.dataset, part=part)
    return _private_block(outcome, part)


def _private_block(outcome: TrainingOutcome, part: str) -> dict:
    block = outcome.block()
    block.pop("loss", None)
    return {**block, "reference_part": part, "sample_seconds": outcome.sample_seconds}
