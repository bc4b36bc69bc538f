"""Celery task: compute a reference baseline on the exercise's queue (the same sandboxes as gradings);
and, when a worker starts, requeue the baselines that dead workers had claimed."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from submissions.tasks import sandbox_for_queue

from .services import baseline_compute, baseline_requeue_dead_workers

log = logging.getLogger(__name__)


@shared_task(name="leaderboard.tasks.compute_baseline", acks_late=True, ignore_result=True)
def compute_baseline(baseline_id: int) -> str:
    return baseline_compute(baseline_id=baseline_id, sandbox_factory=sandbox_for_queue)


@worker_ready.connect
def recover_baselines_from_dead_workers(**_kwargs) -> None:
    """When a worker starts: baselines claimed by dead workers of this host go back to the queue at once,
    instead of staying running until the stale period (submissions.tasks reaps their sandbox containers)."""
    requeued = baseline_requeue_dead_workers()
    if requeued:
        log.warning("requeued baselines claimed by dead workers: %s", requeued)
