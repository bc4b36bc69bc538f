"""Celery tasks: take an id, claim, call a service, decide about retrying."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from .services import (
    submission_claim,
    submission_grade,
    submission_requeue_dead_workers,
    submission_requeue_stale,
    worker_name,
)

log = logging.getLogger(__name__)
_SANDBOXES: dict[str, object] = {}


def sandbox_for_queue(queue: str):
    """One DockerSandbox per worker process and queue; the image is built (or found) on first use."""
    if queue not in _SANDBOXES:
        from grader.image import build_image
        from grader.sandbox.docker_sandbox import DockerSandbox, docker_client

        # The gpu queue's CUDA image only where the worker trains on a GPU: the demo's worker on a machine
        # without GPUs takes the gpu queue too, with the cpu profile and the cpu image.
        variant = "cuda" if queue == "gpu" and settings.TRAINING_PROFILE == "gpu" else "cpu"
        image = build_image(variant, log=log.info)
        _SANDBOXES[queue] = DockerSandbox(image, docker_client(), warm=settings.GRADING_WARM_CONTAINERS)
    return _SANDBOXES[queue]


@shared_task(name="submissions.tasks.grade_submission", acks_late=True, ignore_result=True)
def grade_submission(submission_id: int) -> str:
    token = submission_claim(submission_id=submission_id, worker=worker_name())
    if token is None:
        return "not-claimed"  # a duplicate delivery, or someone else holds it
    return submission_grade(submission_id=submission_id, token=token, sandbox_factory=sandbox_for_queue)


@shared_task(name="submissions.tasks.requeue_stale_submissions", ignore_result=True)
def requeue_stale_submissions() -> list[int]:
    return submission_requeue_stale()


@worker_ready.connect
def recover_from_dead_workers(**_kwargs) -> None:
    """When a worker starts: remove sandbox containers left by dead workers of this host (a SIGKILL
    skips the sandbox's own clean-up) and put their claimed submissions back in the queue at once,
    instead of waiting for the broker's visibility timeout or the stale-claim sweep."""
    try:
        from grader.sandbox.docker_sandbox import docker_client, reap_stale

        removed = reap_stale(docker_client())
        if removed:
            log.warning("removed %d sandbox container(s) of dead workers", removed)
    except Exception as exc:  # Docker down: the gradings will retry; starting the worker must not fail
        log.warning("could not reap stale sandbox containers: %s", exc)
    requeued = submission_requeue_dead_workers()
    if requeued:
        log.warning("requeued submissions claimed by dead workers: %s", requeued)
