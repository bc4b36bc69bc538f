"""The sweep that requeues jobs whose worker went silent, and what a worker does when it starts and
stops: remove the sandboxes of dead workers on its host, requeue their claims at once, and keep
its own heartbeat."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_ready, worker_shutdown

from .liveness import NodeHeartbeat, describe_consumer

log = logging.getLogger(__name__)
_heartbeat: NodeHeartbeat | None = None


@shared_task(name="workers.tasks.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    from leaderboard.private import entry_resample_requeue_stale
    from leaderboard.services import baseline_requeue_silent
    from submissions.services import submission_requeue_silent

    swept = {"submissions": submission_requeue_silent(), "baselines": baseline_requeue_silent(),
             "private_samplings": entry_resample_requeue_stale()}
    if any(swept.values()):
        log.warning("requeued jobs whose worker stopped heartbeating: %s", swept)
    return swept


@worker_ready.connect
def on_worker_ready(sender=None, **_kwargs) -> None:
    """Containers of dead workers of this host are removed (a SIGKILL skips the sandbox's own clean-up)
    and the jobs they had claimed go back to the queue at once; then this node starts heartbeating."""
    global _heartbeat
    from leaderboard.services import baseline_requeue_dead_workers
    from submissions.services import submission_requeue_dead_workers

    try:
        from grader.sandbox.docker_sandbox import docker_client, reap_stale

        removed = reap_stale(docker_client())
        if removed:
            log.warning("removed %d sandbox container(s) of dead workers", removed)
    except Exception as exc:  # Docker down: the gradings will retry; starting the worker must not fail
        log.warning("could not reap stale sandbox containers: %s", exc)
    requeued = {"submissions": submission_requeue_dead_workers(), "baselines": baseline_requeue_dead_workers()}
    if requeued["submissions"] or requeued["baselines"]:
        log.warning("requeued jobs claimed by dead workers: %s", requeued)
    if sender is not None:
        _heartbeat = NodeHeartbeat(**describe_consumer(sender))
        _heartbeat.start()


@worker_shutdown.connect
def on_worker_shutdown(**_kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


@worker_process_shutdown.connect
def on_worker_process_shutdown(**_kwargs) -> None:
    """A pool process that stops removes its warm sandboxes (a killed one's are reaped at the next start)."""
    from .sandboxes import sandboxes_close

    sandboxes_close()
