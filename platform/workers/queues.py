"""The queues, named by what the work costs: a function grading (seconds) never waits for a slot
held by a training run or a baseline (minutes), because they are consumed by separate worker
processes. GPU training has its own queue, one job per GPU."""
from __future__ import annotations

QUICK = "quick"  # function exercises: probes and checks, seconds
TRAINING = "training"  # training exercises and baselines at a CPU profile, minutes
GPU = "gpu"  # training exercises and baselines at a CUDA profile; one job per GPU
QUEUES = (QUICK, TRAINING, GPU)


def queue_for(*, version, profile: str) -> str:
    """The queue of a job for `version` (an ExerciseVersion) trained at `profile` (ignored for a
    function exercise)."""
    if not version.is_training:
        return QUICK
    device = version.training.get("profiles", {}).get(profile, {}).get("device", "cpu")
    return GPU if device == "cuda" else TRAINING


def sandbox_variant(queue: str) -> str:
    """The sandbox image a queue's jobs run in."""
    return "cuda" if queue == GPU else "cpu"
