"""Reading back what the training and sampling sandboxes sent: untrusted input.

The loss log is capped and coerced to numbers, the checkpoint is size-capped and
parsed as safetensors (never unpickled) and re-serialised for the sampling
sandbox, and the samples are checked for type, dtype, shape and count.
`TrainingOutcome` collects what is known, for the training checks and the result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .feedback import CheckFailure
from .metrics.leaderboard import GeneratedScore, validate_samples
from .metrics.score import board_fields
from .numbers import finite_or_none
from .outputs import CallOutput, Run
from .spec import TrainingProfile

if TYPE_CHECKING:  # an FID exercise's version depends on neither the likelihood scorer nor the race's
    from .likelihood import LikelihoodScore
    from .race import RaceScore

MAX_ROWS = 1000  # the harness downsamples to this many
MAX_KEYS = 16
SAMPLE_CALL = "sample(state, n, generator, budget)"


@dataclass
class TrainingOutcome:
    """What a training exercise's run produced, as far as it got."""

    profile: TrainingProfile
    metric: str = "fid"  # TrainingSpec.metric
    train_failure: str = ""  # why training did not complete (student-facing), "" if it did
    sample_failure: str = ""  # why sampling did not complete
    log: dict[str, list] = field(default_factory=dict)  # "step" (ints) and each name (floats, None: not logged)
    logged_rows: int = 0
    steps_done: int = 0
    train_seconds: float | None = None
    sample_seconds: float | None = None
    checkpoint_bytes: int | None = None  # None: no checkpoint came back
    samples: np.ndarray | None = None  # validated uint8 (N, H, W)
    samples_problem: str = ""  # why the samples are not valid, if they came back
    score: GeneratedScore | None = None
    memorisation: dict = field(default_factory=dict)
    likelihood: LikelihoodScore | None = None  # a likelihood board's score (grader/likelihood.py)
    likelihood_problem: str = ""  # why the checkpoint could not be scored (student-facing)
    race: RaceScore | None = None  # a sampler race's score (grader/race.py); `samples` then hold its scored rung

    def stopped(self) -> str:
        """Why the run stopped early, in one line ("" if it did not)."""
        failure = self.train_failure or self.sample_failure
        return failure.split("\n\n")[0].rstrip(".")

    def loss_keys(self) -> list[str]:
        return [k for k in self.log if k != "step" and "loss" in k.lower()]

    def block(self) -> dict:
        """The result's `training` block (non-finite values as null: the result is strict JSON)."""
        block = {"profile": self.profile.name, "device": self.profile.device, "metric": self.metric,
                 "steps": self.profile.steps, "steps_done": self.steps_done, "batch_size": self.profile.batch_size,
                 "train_seconds": self.train_seconds, "sample_seconds": self.sample_seconds,
                 "n_samples": self.profile.n_samples, "checkpoint_bytes": self.checkpoint_bytes,
                 "loss": {k: [v if v is not None and math.isfinite(v) else None for v in vs]
                          for k, vs in self.log.items()}}
        if self.score is not None:
            block.update(board_fields(self.score), memorisation=self.memorisation)
        if self.race is not None:
            block.update(self.race.board(), memorisation=self.memorisation)
        if self.likelihood is not None:
            block.update(self.likelihood.board(), n_samples=self.likelihood.n)
        return block


@dataclass
class TrainingRun(Run):
    """A training sandbox's run: its probes' outputs, and what training and sampling produced."""

    training: TrainingOutcome | None = None

    @classmethod
    def of(cls, run: Run, outcome: TrainingOutcome) -> TrainingRun:
        return cls(**{f.name: getattr(run, f.name) for f in fields(Run)}, training=outcome)


def _number(value) -> float | None:
    """A JSON number (NaN and infinities included: a diverged loss is information), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


finite = finite_or_none  # the name the training grading reads numbers by

def _count(value) -> int:
    number = finite(value)
    return int(number) if number is not None and 0 <= number < 2**53 else 0


def read_training(payload: dict, outcome: TrainingOutcome) -> None:
    """The "training" frame: loss log (at most MAX_ROWS rows, MAX_KEYS names), steps done, seconds."""
    rows = payload.get("rows") if isinstance(payload.get("rows"), list) else []
    rows = [r for r in rows[:MAX_ROWS] if isinstance(r, dict) and finite(r.get("step")) is not None]
    keys = list(dict.fromkeys(k for r in rows for k in r if isinstance(k, str) and k != "step"))[:MAX_KEYS]
    outcome.log = {"step": [_count(r["step"]) for r in rows]} if rows else {}
    for key in keys:
        outcome.log[key[:40]] = [_number(r.get(key)) for r in rows]
    outcome.logged_rows = _count(payload.get("logged"))
    outcome.steps_done = _count(payload.get("steps"))
    outcome.train_seconds = finite(payload.get("seconds"))


def read_checkpoint(blob: bytes, cap: int) -> tuple[bytes | None, str]:
    """(canonical safetensors bytes, "") or (None, why it is refused)."""
    if len(blob) > cap:
        return None, f"the checkpoint is {len(blob) / 1e6:.1f} MB, over the limit of {cap / 1e6:g} MB"
    try:
        return save_tensors(load_tensors(blob)), ""
    except (SafetensorError, ValueError, RuntimeError, TypeError):
        return None, "the checkpoint that came back is not a readable safetensors file"


def read_samples(payload: dict, blob: bytes, n: int, image_shape: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    """(uint8 (N, H, W) samples, "") or (None, a student-facing reason)."""
    info = payload.get("value")
    h, w = image_shape
    expected = f"a uint8 tensor of shape ({n}, {h}, {w}) or ({n}, 1, {h}, {w})"
    if isinstance(info, dict) and "tensor" in info and str(info.get("dtype")) != "uint8":
        # The data of a wrong-dtype tensor may not fit the cap; its header says enough.
        shape = info.get("shape") if isinstance(info.get("shape"), list) else []
        return None, (f"`{SAMPLE_CALL}` returned a {str(info.get('dtype'))[:20]} tensor of shape "
                      f"{tuple(x for x in shape[:8] if isinstance(x, int))}; it must return {expected} "
                      "(pixel values 0..255).")
    try:
        tensors = load_tensors(blob) if blob else {}
    except (SafetensorError, ValueError, RuntimeError):
        tensors = {}  # the value then reads as "its data did not come back"
    try:
        value = CallOutput(SAMPLE_CALL, {"returns": [info]}, tensors).tensor()
        return validate_samples(value.data.numpy(), n, image_shape), ""
    except CheckFailure as failure:
        return None, f"{failure.message} It must return {expected}."
    except (ValueError, TypeError) as exc:  # validate_samples' messages are for the student
        return None, f"`{SAMPLE_CALL}` returned unusable samples: {str(exc)[:300]}. It must return {expected}."
