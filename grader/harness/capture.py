"""The student's stdout and stderr: kept up to a cap, the rest counted and dropped.

The worker's fds 1 and 2 are the write end of a pipe whose read end the supervisor drains with a
thread, so printing never fails or fills scratch space, however much a submission prints, and what
it printed is measured by the process that does not run it.
"""
from __future__ import annotations

import os
import threading


class OutputCapture:
    def __init__(self, read_fd: int, cap: int):
        self.cap = cap
        self.head = bytearray()
        self.total = 0
        self._read_fd = read_fd
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                return
            self.total += len(chunk)
            room = self.cap - len(self.head)
            if room > 0:
                self.head += chunk[:room]

    def report(self, timeout: float = 1.0) -> dict:
        """Everything printed, once the worker has ended: the reader reaches end of file when the last
        write end closes. A process the student forked may keep one open, so the wait is bounded."""
        self._reader.join(timeout)
        return {"text": bytes(self.head).decode("utf-8", "replace"), "bytes": self.total}
