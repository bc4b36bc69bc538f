"""Celery task: compute a reference baseline on the exercise's queue (the same sandboxes as gradings)."""
from __future__ import annotations

from celery import shared_task

from submissions.tasks import sandbox_for_queue

from .services import baseline_compute


@shared_task(name="leaderboard.tasks.compute_baseline", acks_late=True, ignore_result=True)
def compute_baseline(baseline_id: int) -> str:
    return baseline_compute(baseline_id=baseline_id, sandbox_factory=sandbox_for_queue)
