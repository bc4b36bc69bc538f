"""The student's stdout and stderr: kept up to a cap, the rest counted and dropped.

fds 1 and 2 point at a pipe that a reader thread drains, so printing never
fails or fills scratch space, however much a submission prints.
"""
from __future__ import annotations

import os
import threading


class OutputCapture:
    def __init__(self, cap: int):
        self.cap = cap
        self.head = bytearray()
        self.total = 0
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
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
        """Everything printed so far; later prints go nowhere.

        Points fds 1 and 2 at /dev/null, which closes the pipe's last write ends
        in this process, and waits for the reader to reach end of file: waiting
        for an empty pipe is not enough, the reader may hold a chunk it has not
        stored yet. A process the student forked may keep a write end open, so
        the wait is bounded.
        """
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        self._reader.join(timeout)
        return {"text": bytes(self.head).decode("utf-8", "replace"), "bytes": self.total}
