"""Celery tasks: take an id, claim, call a service, decide about retrying."""
from __future__ import annotations

from celery import shared_task

from workers.sandboxes import sandbox_for_queue

from .services import submission_claim, submission_grade, worker_name


@shared_task(name="submissions.tasks.grade_submission", bind=True, acks_late=True, ignore_result=True)
def grade_submission(self, submission_id: int) -> str:
    token = submission_claim(submission_id=submission_id, worker=worker_name(), node=self.request.hostname or "")
    if token is None:
        return "not-claimed"  # a duplicate delivery, a cancelled job, or someone else holds it
    return submission_grade(submission_id=submission_id, token=token, sandbox_factory=sandbox_for_queue)
