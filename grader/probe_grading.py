"""Grading a function exercise: plan probes, run them in one sandbox, judge outside it.

Layered as sandbox -> runner output -> checks -> Result. Every byte that comes back from the
sandbox is untrusted and read through `outputs.Run` (grader/pipeline.py).
"""
from __future__ import annotations

import time

from .pipeline import (
    failed_everywhere,
    harness_did_not_start,
    infrastructure_error,
    judge_all,
    plan_job,
    printed_output,
    read_run,
)
from .progress import JobWatch
from .result import Result
from .sandbox import Sandbox, SandboxUnavailable
from .spec import Exercise


def grade_probes(exercise: Exercise, source: str, *, sandbox: Sandbox, seed: int, started: float, provenance: dict,
                 watch: JobWatch | None) -> Result:
    planner, planned, job, nonce = plan_job(exercise, source, seed)
    planned_at = time.monotonic()
    try:
        raw = sandbox.run(job, exercise.limits, cancel=watch.cancelled if watch else None)
    except SandboxUnavailable as exc:
        return infrastructure_error(exercise, exc, started, provenance)
    run, status, message, extra = read_run(raw, planner, nonce, exercise.limits)
    provenance.update({"image": raw.image, "device": raw.device, "sandbox_versions": extra["versions"]})
    if status == "infrastructure_error":
        return harness_did_not_start(exercise, raw, message, started, provenance)
    if extra["forged"]:  # nothing the submission's process reported can be trusted
        return failed_everywhere(exercise, status, message + printed_output(extra["student_output"]), started,
                                 provenance)
    tests, judge_s = judge_all(exercise, run, planned, source)
    output = message + printed_output(extra["student_output"])
    return Result(status=status, score=sum(t.score for t in tests), max_score=exercise.max_score,
                  execution_time=time.monotonic() - started, output=output.strip(), tests=tests,
                  provenance=provenance, timings={"plan_s": planned_at - started, **raw.timings, **extra["timings"],
                                                  "judge_s": judge_s, "total_s": time.monotonic() - started})
