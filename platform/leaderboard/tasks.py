"""Celery task: compute a reference baseline on the training (or gpu) queue, in the same sandboxes as
gradings."""
from __future__ import annotations

from celery import shared_task

from workers.sandboxes import sandbox_for_queue

from .services import baseline_compute


@shared_task(name="leaderboard.tasks.compute_baseline", bind=True, acks_late=True, ignore_result=True)
def compute_baseline(self, baseline_id: int) -> str:
    return baseline_compute(baseline_id=baseline_id, sandbox_factory=sandbox_for_queue,
                            node=self.request.hostname or "")
