"""Celery task on the quick queue: validate an uploaded exercise bundle in a sandbox."""
from __future__ import annotations

from celery import shared_task

from workers.sandboxes import sandbox_for_queue

from .imports import import_validate


@shared_task(name="catalog.tasks.validate_exercise_import", bind=True, acks_late=True, ignore_result=True)
def validate_exercise_import(self, import_id: int) -> str:
    return import_validate(import_id=import_id, sandbox_factory=sandbox_for_queue)
