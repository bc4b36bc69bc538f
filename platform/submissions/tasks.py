"""Celery tasks: take an id, claim, call a service, decide about retrying."""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from .services import submission_claim, submission_grade, submission_requeue_stale, worker_name

log = logging.getLogger(__name__)
_SANDBOXES: dict[str, object] = {}


def sandbox_for_queue(queue: str):
    """One DockerSandbox per worker process and queue; the image is built (or found) on first use."""
    if queue not in _SANDBOXES:
        from grader.image import build_image
        from grader.sandbox.docker_sandbox import DockerSandbox, docker_client

        variant = "cuda" if queue == "gpu" else "cpu"
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
