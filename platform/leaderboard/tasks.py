"""Celery tasks on the training (or gpu) queue, in the same sandboxes as gradings: compute a reference
baseline; sample an entry again for the private board."""
from __future__ import annotations

from celery import shared_task

from workers.sandboxes import sandbox_for_queue

from .private import entry_resample
from .services import baseline_compute


@shared_task(name="leaderboard.tasks.compute_baseline", bind=True, acks_late=True, ignore_result=True)
def compute_baseline(self, baseline_id: int) -> str:
    return baseline_compute(baseline_id=baseline_id, sandbox_factory=sandbox_for_queue,
                            node=self.request.hostname or "")


@shared_task(name="leaderboard.tasks.resample_entry", bind=True, acks_late=True, ignore_result=True)
def resample_entry(self, entry_id: int) -> str:
    return entry_resample(entry_id=entry_id, sandbox_factory=sandbox_for_queue)
