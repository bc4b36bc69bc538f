"""Live progress of a running job, and the way to cancel it.

The caller of `grade()` passes a `JobWatch`: its `cancelled` event stops the sandbox (the
container is killed and removed, `grade()` raises `Cancelled`), and `report()` receives the
job's progress every time it changes. For a training job the harness writes a "progress"
frame every few seconds (step, the latest logged values); `ProgressTap` reads them from the
sandbox's output while it runs. They are untrusted display data: numbers only, capped.
Elapsed time and budgets come from the judge's own clock and the profile.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable

from .harness import protocol
from .numbers import finite_or_none

MAX_SERIES = 4  # logged values shown per job (e.g. loss, d_loss, g_loss)
MAX_POINTS = 200  # per series; older points are thinned when there are more
MAX_STEP = 10**9
MAX_FRAME_BYTES = 16 * 1024
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")


class Cancelled(Exception):
    """The job was cancelled while it ran: nothing to store, nothing to charge."""


class JobWatch:
    """What the platform hands to a grading: a cancel flag and a progress callback."""

    def __init__(self, report: Callable[[dict], None] | None = None):
        self.cancelled = threading.Event()
        self._report = report

    def report(self, progress: dict) -> None:
        if self._report is not None:
            self._report(progress)


class ProgressTap:
    """Reads "progress" frames of one sandbox run from its growing output, validates them and
    reports a bounded summary: {phase, step, steps, elapsed_s, budget_s, series: {name: [[step, value]]}}."""

    def __init__(self, nonce: str, watch: JobWatch, *, phase: str, steps: int | None, budget_s: float,
                 series: dict | None = None):
        self._marker = protocol.FRAME_PREFIX + nonce.encode() + b" progress "
        self._watch, self._offset, self._started = watch, 0, time.monotonic()
        self.phase, self.steps, self.budget_s = phase, steps, budget_s
        self.step: int | None = None
        self.series: dict[str, list[list[float]]] = series if series is not None else {}

    def summary(self) -> dict:
        return {"phase": self.phase, "step": self.step, "steps": self.steps,
                "elapsed_s": round(time.monotonic() - self._started, 1), "budget_s": self.budget_s,
                "series": {name: [list(p) for p in points] for name, points in self.series.items()}}

    def start(self) -> None:
        self._watch.report(self.summary())

    def feed(self, output: bytes | bytearray) -> None:
        """Called with the run's whole stdout so far; reads the progress frames added since the
        last call (a frame still being written is read next time) and reports the summary."""
        while True:
            start = output.find(self._marker, self._offset)
            if start < 0:
                break
            header = start + len(self._marker)
            header_end = output.find(b"\n", header, header + 48)
            if header_end < 0:
                if len(output) - header < 48:
                    break  # the header is still being written
                self._offset = header
                continue
            try:
                json_len, blob_len = (int(x) for x in bytes(output[header:header_end]).decode("ascii").split(" "))
            except ValueError:
                self._offset = header
                continue
            if not 0 <= json_len <= MAX_FRAME_BYTES or blob_len != 0:
                self._offset = header
                continue
            body_end = header_end + 1 + json_len
            if body_end > len(output):
                break
            try:
                payload = json.loads(bytes(output[header_end + 1:body_end]))
            except ValueError:
                payload = None
            self._offset = body_end
            if isinstance(payload, dict):
                self._add(payload)
        self._watch.report(self.summary())

    def _add(self, payload: dict) -> None:
        step = payload.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
            return
        self.step = step
        values = payload.get("values")
        if isinstance(values, dict):
            for key, raw in list(values.items())[:16]:
                value = finite_or_none(raw)
                if not isinstance(key, str) or not _KEY.fullmatch(key) or value is None:
                    continue
                if key not in self.series and len(self.series) >= MAX_SERIES:
                    continue
                points = self.series.setdefault(key, [])
                if points and points[-1][0] >= step:
                    continue  # steps only go forward
                points.append([step, value])
                if len(points) > MAX_POINTS:
                    del points[1:-1:2]  # thin evenly, keep the first and the latest
