"""Writes shared by every kind of job (submissions and baselines): putting a claimed job back in
its queue when its worker is gone."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

RUNNING, QUEUED = "running", "queued"


def silent_since(now=None):
    """Jobs whose last heartbeat is older than this have lost their worker."""
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_S)


def claims_release(rows, *, match: Callable[[object], dict], reset: dict, enqueue: Callable[[object], object]) -> list:
    """Each row still running under the claim it had when it was read (`match(row)`: the claim's
    fields) goes back to queued with `reset` applied, and is enqueued once that commits. A row
    that changed meanwhile (it finished, or another sweep took it) is left alone."""
    released = []
    for row in rows:
        with transaction.atomic():
            if type(row).objects.filter(pk=row.pk, status=RUNNING, **match(row)).update(
                    status=QUEUED, queued_at=timezone.now(), heartbeat_at=None, **reset):
                released.append(row.pk)
                transaction.on_commit(lambda r=row: enqueue(r))
    return released
