"""Grading a training exercise (DESIGN.md §3, "Training exercises").

train sandbox (probes first, then train() on the training split mounted read-only)
-> checkpoint (size-capped, re-serialised) -> sample sandbox (the checkpoint, no
dataset, a sample seed the judge derives from the grading seed) -> samples validated
-> FID/KID and memorisation on the trusted side -> checks -> Result.

A likelihood board (`[training.likelihood]`) has no sampling sandbox: the judge scores the
checkpoint's bits/dim on the test split itself (grader/likelihood.py), and draws the grid's
preview samples with the reference model.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import time

from .harness import protocol
from .likelihood import CheckpointMismatch, preview_samples, score_checkpoint
from .memorisation_report import memorisation_block
from .metrics.leaderboard import score_generated
from .outputs import Run
from .pipeline import (
    base_spec,
    failed_everywhere,
    harness_did_not_start,
    infrastructure_error,
    judge_all,
    plan_job,
    printed_output,
    read_run,
)
from .probes import Planner
from .progress import JobWatch, ProgressTap
from .race import encode_race_job, race_weights, score_race
from .result import Result
from .sample_grid import sample_grid_png
from .sandbox import Sandbox, SandboxUnavailable
from .spec import Exercise, Limits, TrainingProfile, TrainingSpec
from .training_data import CONTAINER_DIR, TrainingData, prepare_training_split
from .training_outputs import TrainingOutcome, TrainingRun, finite, read_checkpoint, read_samples, read_training
from .untrusted import untrusted

START_SLACK_S = 30.0  # on top of a phase's budget: container start, torch import, probes, sending results
OUTPUT_SLACK_MB = 4


def sample_seed(seed: int) -> int:
    """The sampling seed, chosen by the judge: a function of the grading seed, so a regrade repeats it."""
    return int.from_bytes(hashlib.sha256(f"dgm-sample-seed:{seed}".encode()).digest()[:4], "big") >> 1


def train_limits(limits: Limits, training: TrainingSpec, profile: TrainingProfile) -> Limits:
    """The exercise's limits; the wall clock from the profile; room for the probes' outputs and the checkpoint."""
    return dataclasses.replace(limits, wall_time_s=profile.train_time_s + START_SLACK_S,
                               output_mb=limits.output_mb + math.ceil(training.checkpoint_mb) + OUTPUT_SLACK_MB,
                               gpu=profile.device == "cuda")


def sample_limits(limits: Limits, profile: TrainingProfile, samples_bytes: int) -> Limits:
    return dataclasses.replace(limits, wall_time_s=profile.sample_time_s + START_SLACK_S,
                               output_mb=limits.output_mb + math.ceil(samples_bytes / 2**20) + OUTPUT_SLACK_MB,
                               gpu=profile.device == "cuda")


def _budget(training: TrainingSpec, profile: TrainingProfile, seed: int) -> dict:
    return {"steps": profile.steps, "batch_size": profile.batch_size, "seed": seed, "device": profile.device,
            "options": training.options(profile), "train_time_s": profile.train_time_s,
            "sample_time_s": profile.sample_time_s}


def _program_fields(training: TrainingSpec) -> dict:
    return {"program": training.program_source(), "support": training.support_sources()}


def _failure(status: str, message: str, frame: tuple[dict, bytes] | None, phase: str) -> tuple[str, str]:
    """The status and message of a training or sampling run; a graded run whose frame
    carries the student's exception becomes an error."""
    if status != "graded":
        return status, message
    payload = (frame or ({}, b""))[0]
    error = payload.get("error")
    if isinstance(error, dict):
        kind, text = str(error.get("type", "Error"))[:100], str(error.get("message", ""))[:1000]
        if kind == "CheckpointError":  # the harness's words, with the student's key names in them
            return "error", f"The checkpoint that train() returned was refused: {untrusted(text)}."
        tb = str(error.get("traceback", ""))[-2000:]
        return "error", (f"Your code raised {untrusted(f'{kind}: {text}')} while {phase}."
                         + (untrusted(tb, block=True) if tb else ""))
    if frame is None:
        return "error", f"The sandbox ended without reporting on {phase}."
    return "graded", ""


def grade_training(exercise: Exercise, source: str, *, sandbox: Sandbox, seed: int, profile: str | None,
                   started: float, provenance: dict, watch: JobWatch, artifacts: dict | None = None) -> Result:
    training = exercise.training
    assert training is not None  # judge.grade sends only training exercises here
    chosen = training.profile(profile)
    provenance.update(profile=chosen.name, device=chosen.device, sample_seed=sample_seed(seed))
    try:
        data = prepare_training_split(training.dataset)
    except OSError as exc:
        return infrastructure_error(exercise, exc, started, provenance)
    outcome = TrainingOutcome(chosen, metric=training.metric)
    timings: dict = {}
    if training.race is not None:
        return _grade_race(exercise, source, training, chosen, data, sandbox, seed, outcome, timings, started,
                           provenance, watch, artifacts)

    cap = int(training.checkpoint_mb * 1e6)
    planner, planned, job, nonce = plan_job(
        exercise, source, seed, mode="train", data=data.container_path, checkpoint_cap=cap,
        budget=_budget(training, chosen, seed), **_program_fields(training))
    limits = train_limits(exercise.limits, training, chosen)
    tap = ProgressTap(nonce, watch, phase="training", steps=chosen.steps, budget_s=chosen.train_time_s)
    tap.start()
    try:
        raw = sandbox.run(job, limits, mounts={str(data.folder): CONTAINER_DIR}, on_output=tap.feed,
                          cancel=watch.cancelled)
    except SandboxUnavailable as exc:
        return infrastructure_error(exercise, exc, started, provenance)
    run, status, message, extra = read_run(raw, planner, nonce, limits)
    provenance.update(image=raw.image, sandbox_versions=extra["versions"])
    if status == "infrastructure_error":
        return harness_did_not_start(exercise, raw, message, started, provenance)
    if extra["forged"]:
        return failed_everywhere(exercise, status, message + printed_output(extra["student_output"], " while training"),
                                 started, provenance)
    timings.update({f"train_{k}": v for k, v in {**raw.timings, **extra["timings"]}.items()})
    output = printed_output(extra["student_output"], " while training")
    frame = extra["frames"].get("training")
    if frame is not None:
        read_training(frame[0], outcome)
    status, message = _failure(status, message, frame, "training")
    if status == "timeout" and extra["phase"] == "train":
        message += (f" Training has a budget of {chosen.train_time_s:g} s: end the loop when "
                    "`budget.should_stop(step)` returns True.")
    checkpoint = None
    if status == "graded":
        checkpoint, problem = read_checkpoint(extra["frames"].get("checkpoint", ({}, b""))[1], cap)
        if checkpoint is None:
            status, message = "error", f"The checkpoint that train() returned was refused: {problem}."
        outcome.checkpoint_bytes = len(checkpoint) if checkpoint is not None else None
        if checkpoint is not None and artifacts is not None:
            artifacts["checkpoint"] = checkpoint
    outcome.train_failure = message if status != "graded" else ""

    try:
        if checkpoint is not None and training.likelihood is not None:
            scoring = time.monotonic()
            score_likelihood(outcome, training, chosen, checkpoint, sample_seed(seed))
            timings["score_s"] = time.monotonic() - scoring
        elif checkpoint is not None:
            sampled = _sample(exercise, source, training, chosen, checkpoint, data, sandbox, seed, outcome, timings,
                              watch, tap)
            status, message, output = sampled.status, sampled.message, output + sampled.output
            if outcome.samples is not None:
                scoring = time.monotonic()
                _score(outcome, training.dataset)
                timings["score_s"] = time.monotonic() - scoring
    except (SandboxUnavailable, OSError) as exc:  # the sampling sandbox, or the metrics' data files
        return infrastructure_error(exercise, exc, started, provenance)

    return _result(exercise, source, TrainingRun.of(run, outcome), planned, status, message + output, started,
                   provenance, timings)


def _result(exercise: Exercise, source: str, run: TrainingRun, planned: dict, status: str, output: str,
            started: float, provenance: dict, timings: dict) -> Result:
    """The checks judged on what the sandboxes produced, and the result with its training block."""
    outcome = run.training
    assert outcome is not None
    tests, judge_s = judge_all(exercise, run, planned, source)
    timings.update(judge_s=judge_s, total_s=time.monotonic() - started)
    block = outcome.block()
    leaderboard = []
    if outcome.samples is not None and any(s is not None for s in (outcome.score, outcome.likelihood, outcome.race)):
        block["sample_grid_png"] = sample_grid_png(outcome.samples)
    if outcome.score is not None:
        leaderboard = [{"name": outcome.score.label, "value": outcome.score.fid, "order": "asc"},
                       {"name": "KID", "value": outcome.score.kid, "order": "asc"}]
    elif outcome.likelihood is not None and math.isfinite(outcome.likelihood.bits_per_dim):
        leaderboard = [{"name": outcome.likelihood.label, "value": outcome.likelihood.bits_per_dim, "order": "asc"}]
    elif outcome.race is not None and outcome.race.steps is not None:
        leaderboard = [{"name": outcome.race.label, "value": outcome.race.steps, "order": "asc"}]
    return Result(status=status, score=sum(t.score for t in tests), max_score=exercise.max_score,
                  execution_time=time.monotonic() - started, output=output.strip(), tests=tests,
                  leaderboard=leaderboard, provenance=provenance, timings=timings, training=block)


def _grade_race(exercise: Exercise, source: str, training: TrainingSpec, profile: TrainingProfile,
                data: TrainingData, sandbox: Sandbox, seed: int, outcome: TrainingOutcome, timings: dict,
                started: float, provenance: dict, watch: JobWatch, artifacts: dict | None) -> Result:
    """A sampler race (grader/race.py): one sandbox runs the probes, then the race on the fixed weights."""
    try:
        weights = race_weights(training)
    except OSError as exc:
        return infrastructure_error(exercise, exc, started, provenance)
    if artifacts is not None:
        artifacts["checkpoint"] = weights  # what the private board races again
    planner = Planner(sample_seed(seed))
    planned = {c.name: c.check.plan(planner) for c in exercise.checks if c.check is not None}
    try:
        sampled = _sample(exercise, source, training, profile, weights, data, sandbox, seed, outcome, timings, watch,
                          None, planner=planner)
        provenance.update(image=sampled.image, sandbox_versions=sampled.versions)
        if sampled.forged:
            return failed_everywhere(exercise, sampled.status, sampled.message + sampled.output, started, provenance)
        if outcome.samples is not None:
            scoring = time.monotonic()
            score_race(outcome, training, profile)
            timings["score_s"] = time.monotonic() - scoring
    except (SandboxUnavailable, OSError) as exc:
        return infrastructure_error(exercise, exc, started, provenance)
    return _result(exercise, source, TrainingRun.of(sampled.run, outcome), planned, sampled.status,
                   sampled.message + sampled.output, started, provenance, timings)


@dataclasses.dataclass
class Sampled:
    """What the sampling sandbox's run came to."""

    status: str
    message: str
    output: str  # what the student's code printed, for the result
    run: Run  # the probes' outputs, when the job carried probes
    image: str
    versions: dict
    forged: bool


def _sample(exercise: Exercise, source: str, training: TrainingSpec, profile: TrainingProfile, checkpoint: bytes,
            data: TrainingData, sandbox: Sandbox, seed: int, outcome: TrainingOutcome,
            timings: dict, watch: JobWatch, train_tap: ProgressTap | None, planner: Planner | None = None) -> Sampled:
    """The sampling sandbox: no dataset, the checkpoint as the job's blob; a race's job also runs the
    probes that `planner` planned. Fills `outcome`. Raises SandboxUnavailable."""
    h, w = data.image_shape
    n_images = profile.n_samples * len(training.rungs(profile))  # a race returns every rung's images
    samples_bytes = n_images * h * w
    seed_s = sample_seed(seed)
    fields = {**base_spec(exercise, source, seed_s), "mode": "sample", "sample_seed": seed_s,
              "n_samples": profile.n_samples, "samples_cap": samples_bytes,
              "budget": _budget(training, profile, seed_s), **_program_fields(training)}
    if planner is None:
        planner, job = Planner(seed_s), protocol.encode_job(fields, checkpoint)
    else:
        spec, probe_blob = planner.job(**fields)
        job = encode_race_job(spec, probe_blob, checkpoint)
    limits = sample_limits(exercise.limits, profile, samples_bytes)
    tap = ProgressTap(fields["nonce"], watch, phase="sampling", steps=profile.steps, budget_s=profile.sample_time_s,
                      series=train_tap.series if train_tap else None)
    tap.step = train_tap.step if train_tap else profile.steps
    tap.start()
    raw = sandbox.run(job, limits, on_output=tap.feed, cancel=watch.cancelled)
    run, status, message, extra = read_run(raw, planner, fields["nonce"], limits)
    if status == "infrastructure_error":
        raise SandboxUnavailable(f"the sampling sandbox failed to start: {message}")
    timings.update({f"sample_{k}": v for k, v in {**raw.timings, **extra["timings"]}.items()})
    frame = extra["frames"].get("sampling")
    if frame is not None:
        outcome.sample_seconds = finite(frame[0].get("seconds"))
    status, message = _failure(status, message, frame, "sampling")
    if status == "timeout" and extra["phase"] == "sample":
        message += f" Sampling has a budget of {profile.sample_time_s:g} s (see `budget.time_left()`)."
    outcome.sample_failure = message if status != "graded" else ""
    if status == "graded":
        payload, blob = extra["frames"].get("samples", ({}, b""))
        outcome.samples, outcome.samples_problem = read_samples(payload, blob, n_images, data.image_shape)
    return Sampled(status, message, printed_output(extra["student_output"], " while sampling"), run, raw.image,
                   extra["versions"], bool(extra["forged"]))


def score_likelihood(outcome: TrainingOutcome, training: TrainingSpec, profile: TrainingProfile, checkpoint: bytes,
                     seed: int, part: str | None = "public") -> None:
    """A likelihood board's score, on the trusted side (grader/likelihood.py): the checkpoint's
    weights in the reference model, over the profile's n_samples test images of `part`, and the
    preview samples of the result's grid. Fills `outcome`; raises OSError (the dataset's files)."""
    spec = training.likelihood
    assert spec is not None  # only likelihood exercises come here
    try:
        outcome.likelihood, model = score_checkpoint(
            checkpoint, family=spec.family, options=training.options(profile), dataset=training.dataset,
            n=profile.n_samples, part=part, seed=seed)
    except CheckpointMismatch as exc:
        outcome.likelihood_problem = f"The checkpoint does not fit the scaffold's architecture: {untrusted(str(exc))}."
        return
    if spec.preview and math.isfinite(outcome.likelihood.bits_per_dim):
        outcome.samples = preview_samples(model, spec.preview, seed)


def _score(outcome: TrainingOutcome, dataset: str, part: str | None = "public") -> None:
    samples = outcome.samples
    assert samples is not None  # scored only once validated samples came back
    n = len(samples)
    score = score_generated(samples, dataset=dataset, n_required=n, kid_subset_size=min(1000, n), part=part)
    assert score.memorisation is not None  # score_generated checks for memorisation by default
    outcome.score = score
    outcome.memorisation = memorisation_block(score.memorisation, samples, dataset)
