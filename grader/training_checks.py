"""Checks of a training exercise, judged from a TrainingRun's `training` (a TrainingOutcome).

An exercise lists them in its checks.py; the component checks of the core exercise it
extends (`extends` in exercise.toml) run as probes in the training sandbox before training:
    CHECKS = [TrainingCompleted(), LossDecreases(), SamplesValid(), NotMemorised()]
a likelihood board's (`[training.likelihood]`, no samples to judge):
    CHECKS = [TrainingCompleted(), LossDecreases(), BitsPerDimScored()]
a sampler race's (`[training.race]`, nothing trained):
    CHECKS = [SamplesValid(), ReachesTarget(), NotMemorised()]
"""
from __future__ import annotations

import math

from .checkbase import Check
from .feedback import CheckFailure
from .outputs import Run
from .training_outputs import TrainingOutcome
from .untrusted import untrusted

__all__ = ["BitsPerDimScored", "LossDecreases", "NotMemorised", "ReachesTarget", "SamplesValid", "TrainingCompleted"]


def _outcome(run: Run) -> TrainingOutcome:
    outcome = getattr(run, "training", None)  # a TrainingRun's (grader/training_outputs.py)
    if outcome is None:
        raise RuntimeError("a training check in an exercise without a [training] table")
    return outcome


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _no_samples(outcome: TrainingOutcome) -> str:
    """Why there are no scored samples, to follow "There are no samples ...: "."""
    return "they are not valid (see the samples check)" if outcome.samples_problem else \
        _lower_first(outcome.stopped() or "none came back")


class TrainingCompleted(Check):
    name = "trains"
    title = "Training finishes within its budget and returns a checkpoint; the logged losses are finite"

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        if outcome.checkpoint_bytes is None:
            raise CheckFailure("Training did not complete: "
                               + _lower_first(outcome.train_failure or "no checkpoint came back."))
        for key in outcome.loss_keys():
            steps = [s for s, v in zip(outcome.log["step"], outcome.log[key], strict=True)
                     if v is not None and not math.isfinite(v)]
            if steps:
                raise CheckFailure(f"The logged {untrusted(key)} is not finite (first at step {steps[0]:g}).",
                                   hint="A diverging loss: lower the learning rate, or look for log(0) or "
                                        "division by zero in the loss.")
        seconds = f" in {outcome.train_seconds:.1f} s" if outcome.train_seconds is not None else ""
        return f"{outcome.steps_done} steps{seconds}; checkpoint {outcome.checkpoint_bytes / 1e6:.2f} MB."


class LossDecreases(Check):
    """The mean of the last `share` of a logged curve is below the mean of its first `share`.
    `key` defaults to the first logged name containing "loss"."""

    def __init__(self, key: str | None = None, *, name: str = "loss_decreases", share: float = 0.2,
                 title: str | None = None):
        self.key, self.name, self.share = key, name, share
        self.title = title or f"The logged {f'`{key}`' if key else 'loss'} goes down during training"

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        key = self.key or next(iter(outcome.loss_keys()), None)
        if key is None or key not in outcome.log:
            if outcome.train_failure and not outcome.log:
                raise CheckFailure(f"No loss curve came back: {_lower_first(outcome.stopped())}.")
            what = f"Nothing named `{self.key}` was" if self.key else "No loss (a name containing \"loss\") was"
            raise CheckFailure(f"{what} logged during training.",
                               hint="Call `budget.log(step, loss=loss.item())` in the training loop.")
        values = [v for v in outcome.log[key] if v is not None]
        shown = f"`{key}`" if key == self.key else untrusted(key)  # a name the submission chose
        if len(values) < 5:
            raise CheckFailure(f"Only {len(values)} value(s) of {shown} were logged; at least 5 are needed to "
                               "tell whether it goes down.", hint="Log every few steps with `budget.log`.")
        k = max(1, int(len(values) * self.share))
        first, last = sum(values[:k]) / k, sum(values[-k:]) / k
        if not last < first:  # also fails on NaN
            raise CheckFailure(f"{shown} did not go down: the mean of its last {self.share:.0%} of logged values "
                               f"({last:.4g}) is not below the mean of its first {self.share:.0%} ({first:.4g}).",
                               hint="Check the sign of the loss and that the optimizer steps the model's "
                                    "parameters.")
        return f"{shown}: {first:.4g} -> {last:.4g}."


class SamplesValid(Check):
    name = "samples_valid"
    title = "sample() returns the requested number of uint8 images of the right shape, not all identical"

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        samples = outcome.samples
        if samples is None:
            if outcome.samples_problem:
                raise CheckFailure(outcome.samples_problem)
            if outcome.sample_failure:
                raise CheckFailure(f"Sampling did not complete: {_lower_first(outcome.sample_failure)}")
            raise CheckFailure(f"Nothing was sampled: {_lower_first(outcome.stopped() or 'training failed')}.")
        if bool((samples == samples[:1]).all()):
            raise CheckFailure(f"All {len(samples)} samples are the same image.",
                               hint="Draw fresh noise for every sample from the `generator` argument.")
        return f"{len(samples)} samples of {samples.shape[1]}x{samples.shape[2]}."


class NotMemorised(Check):
    name = "not_memorised"
    title = "The samples are new images, not copies of dataset images"

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        if outcome.score is None and outcome.race is None:
            raise CheckFailure(f"There are no samples to compare with the training images: {_no_samples(outcome)}.")
        m = outcome.memorisation
        t = m["thresholds"]
        extra = (f", below {t['features']:.3g} in the classifier's features (cosine distance), or below "
                 f"{t['tangent']:.3g} once a small warp, brightness and contrast are fitted" if "tangent" in t else "")
        summary = (f"{m['share']:.1%} of your samples are near-copies of training or test images (pixel L2 distance "
                   f"below {t['pixel']:.3g} with pixels in [0, 1], below {t['centred']:.3g} once centred, "
                   f"mirrored and rescaled{extra}); at most {m['allowed_share']:.0%} may.")
        if m["flagged"]:
            raise CheckFailure(f"Your samples look like copies of dataset images: {summary}",
                               hint="A generative model must produce new images; returning (near) copies of "
                                    "dataset images, shifted, mirrored, warped or not, does not count, and such "
                                    "results stay off the leaderboard.")
        return summary


class BitsPerDimScored(Check):
    """The judge's bits/dim of the test images (grader/likelihood.py) is finite and below `below`
    (8 bits/dim: a uniform distribution over 256 pixel values, which any trained model should beat)."""

    name = "bits_per_dim"

    def __init__(self, below: float = 8.0):
        self.below = below
        self.title = (f"The trained model's bits/dim on the test images, computed by the judge with the reference "
                      f"implementation, is finite and below {below:g}")

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        score = outcome.likelihood
        if score is None:
            raise CheckFailure(outcome.likelihood_problem or
                               f"There is no model to score: {_lower_first(outcome.stopped() or 'training failed')}.")
        if not math.isfinite(score.bits_per_dim):
            raise CheckFailure(f"The judge's bits/dim of your trained model is {score.bits_per_dim}: with the "
                               "reference implementation, its weights give some test image no finite likelihood.",
                               hint="If training looked fine, your functions compute something other than the "
                                    "contract's: the model learnt what your code computes, the judge scores it "
                                    "with the reference.")
        low, high = score.interval
        summary = (f"{score.bits_per_dim:.4f} bits/dim on {score.n} test images (95 % interval "
                   f"{low:.4f} to {high:.4f}).")
        if not score.bits_per_dim < self.below:
            raise CheckFailure(f"{summary} It must be below {self.below:g}, what a uniform distribution over the 256 "
                               "pixel values scores.",
                               hint="The judge scores your weights with the reference implementation: a model trained "
                                    "on a wrong log-likelihood (a sign, a missing term, a mask that lets a pixel see "
                                    "itself) looks good in your loss curve and bad here.")
        return summary


class ReachesTarget(Check):
    """A sampler race (grader/race.py): some rung of the ladder reaches the profile's target FID."""

    name = "reaches_target"
    title = "Your sampler reaches the race's target FID within the ladder's largest number of steps"

    def judge(self, run: Run, planned) -> str:
        outcome = _outcome(run)
        race = outcome.race
        if race is None:
            raise CheckFailure(f"There are no samples to score: {_no_samples(outcome)}.")
        curve = "; ".join(f"{r} steps: {'not finite' if f is None else f'{f:.1f}'}"
                          for r, f in zip(race.rungs, race.fids, strict=True))
        if race.steps is None:
            raise CheckFailure(f"No rung reaches {race.scored.label} {race.target_fid:g} (by steps: {curve}).",
                               hint="With the default settings the reference solution reaches the target: if "
                                    "the component checks pass, look at your RACE settings; a guidance scale "
                                    "far from 1 to 3 or a large eta costs quality at few steps.")
        return f"{race.steps:.2f} steps to {race.scored.label} {race.target_fid:g} (by steps: {curve})."
