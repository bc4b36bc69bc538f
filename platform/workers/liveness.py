"""Worker nodes' heartbeats: each Celery worker's main process records itself every
NODE_HEARTBEAT_S in WorkerHeartbeat (its queues, its processes), so the status page knows
which workers are alive on every host, without asking the broker."""
from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)


def describe_consumer(consumer) -> dict:
    """Name, queues and process count of the Celery worker whose consumer sent worker_ready."""
    queues = sorted(q.name for q in getattr(getattr(consumer, "task_consumer", None), "queues", []) or [])
    pool = getattr(consumer, "pool", None)
    concurrency = getattr(pool, "num_processes", None) or getattr(consumer.controller, "concurrency", 1) or 1
    return {"name": consumer.hostname, "queues": queues, "concurrency": int(concurrency)}


def heartbeat_write(*, name: str, queues: list[str], concurrency: int, started_at) -> None:
    WorkerHeartbeat.objects.update_or_create(name=name[:200], defaults={
        "hostname": socket.gethostname()[:200], "pid": os.getpid(), "queues": queues,
        "concurrency": concurrency, "started_at": started_at, "last_seen_at": timezone.now()})


class NodeHeartbeat:
    """A daemon thread of the worker's main process; stopped (and the row removed) at shutdown."""

    def __init__(self, *, name: str, queues: list[str], concurrency: int):
        self.fields = {"name": name, "queues": queues, "concurrency": concurrency, "started_at": timezone.now()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="node-heartbeat", daemon=True)

    def start(self) -> None:
        heartbeat_write(**self.fields)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        WorkerHeartbeat.objects.filter(name=self.fields["name"][:200], pid=os.getpid()).delete()

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.NODE_HEARTBEAT_S):
                close_old_connections()
                try:
                    heartbeat_write(**self.fields)
                except Exception:
                    log.warning("worker heartbeat failed", exc_info=True)
        finally:
            connection.close()
