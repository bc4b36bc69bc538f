"""While a worker runs a job: a heartbeat, the job's live progress, and its cancellation.

A thread of the grading process writes `heartbeat_at` (and the latest progress, when it
changed) every JOB_HEARTBEAT_S through the job's claim: a conditional UPDATE that matches
only while the job is still running under this claim. When it matches nothing, the job was
cancelled (or requeued by the sweep because its heartbeat was missed), and the monitor sets
the grading's cancel event: the sandbox is killed and removed, nothing is stored.
A job whose heartbeat stops (the process or its host died) is requeued by
`workers.services.jobs_requeue_silent`.
"""
from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from grader.progress import JobWatch

log = logging.getLogger(__name__)


class JobMonitor:
    """`with JobMonitor(claim) as watch: grade(..., watch=watch)`; `claim` is a queryset that
    matches the job's row only while this worker holds it."""

    def __init__(self, claim, *, every_s: float | None = None):
        self.claim = claim
        self.every_s = every_s if every_s is not None else settings.JOB_HEARTBEAT_S
        self.watch = JobWatch(report=self._report)
        self._latest: dict | None = None
        self._written: dict | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-monitor", daemon=True)

    def __enter__(self) -> JobWatch:
        self.beat()  # now: the time since the claim (finding the image, the bundle) is not silence
        self._thread.start()
        return self.watch

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(self.every_s + 30)

    def _report(self, progress: dict) -> None:
        with self._lock:
            self._latest = progress

    def beat(self) -> bool:
        """One heartbeat; False (and the cancel event set) once the claim is gone."""
        fields = {"heartbeat_at": timezone.now()}
        with self._lock:
            latest = self._latest
        if latest is not None and latest != self._written:
            fields["progress"] = latest
        if self.claim.update(**fields) == 0:
            self.watch.cancelled.set()
            return False
        self._written = latest
        return True

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every_s):
                close_old_connections()
                try:
                    if not self.beat():
                        return
                except Exception:  # a database hiccup: the next beat tries again; the sweep is lenient
                    log.warning("job heartbeat failed", exc_info=True)
        finally:
            connection.close()  # this thread's own connection
