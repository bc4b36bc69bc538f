"""Reading a process's output under a byte cap and a deadline."""
from __future__ import annotations

import select
import socket
import struct
import time

_HEADER = struct.Struct(">BxxxL")  # Docker's multiplexed stream: type, 3 pad bytes, length
OUTPUT_EVERY_S = 1.0


class CappedBuffer:
    def __init__(self, cap: int):
        self.cap, self.data, self.overflow = cap, bytearray(), False

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.overflow = True
        self.data += chunk[:max(room, 0)]


class DockerStreamReader:
    """Demultiplexes an attached container socket into capped stdout and stderr."""

    def __init__(self, sock: socket.socket, stdout_cap: int, stderr_cap: int):
        self.sock = sock
        self.stdout, self.stderr = CappedBuffer(stdout_cap), CappedBuffer(stderr_cap)
        self._pending = bytearray()

    def _feed(self, chunk: bytes) -> None:
        self._pending += chunk
        while len(self._pending) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(self._pending)
            if len(self._pending) < _HEADER.size + size:
                return
            payload = bytes(self._pending[_HEADER.size:_HEADER.size + size])
            del self._pending[:_HEADER.size + size]
            (self.stderr if kind == 2 else self.stdout).add(payload)

    def read_until(self, deadline: float, *, on_output=None, cancel=None) -> str:
        """Read until EOF ("eof"), the deadline ("timeout"), stdout over its cap ("overflow") or
        `cancel` set ("cancelled"); `on_output(stdout so far)` at most once per OUTPUT_EVERY_S."""
        reported = time.monotonic()
        while True:
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                return "cancelled"
            if on_output is not None and now - reported >= OUTPUT_EVERY_S:
                reported = now
                on_output(self.stdout.data)
            left = deadline - now
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.sock], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return "eof"
            self._feed(chunk)
            if self.stdout.overflow:
                return "overflow"

    def drain(self, deadline: float) -> None:
        """Read and discard until EOF or the deadline."""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], min(max(deadline - time.monotonic(), 0), 0.5))
            if ready and not self.sock.recv(1 << 16):
                return
