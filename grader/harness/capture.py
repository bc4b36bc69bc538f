"""The student's stdout and stderr: kept up to a cap, the rest counted and dropped.

fds 1 and 2 point at a pipe that a reader thread drains, so printing never
fails or fills scratch space, however much a submission prints.
"""
from __future__ import annotations

import fcntl
import os
import termios
import threading
import time


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
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                return
            self.total += len(chunk)
            room = self.cap - len(self.head)
            if room > 0:
                self.head += chunk[:room]

    def settle(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until the reader has taken everything already written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = fcntl.ioctl(self._read_fd, termios.FIONREAD, b"\0\0\0\0")
            if int.from_bytes(pending, "little") == 0:
                return
            time.sleep(0.01)

    def report(self) -> dict:
        self.settle()
        return {"text": bytes(self.head).decode("utf-8", "replace"), "bytes": self.total}
