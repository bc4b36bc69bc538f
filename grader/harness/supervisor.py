"""The harness's two processes: the supervisor, which holds the job's nonce and the private channel
to the judge and never runs student code, and the worker it forks, which runs the submission.

The worker is forked before the job arrives, so its memory never held the nonce; the supervisor
then makes itself non-dumpable, so that the worker (same user) cannot read its memory or open its
file descriptors through /proc. The worker gets the job without the nonce, and reports on a pipe
in its own format (`encode_message`). The supervisor reads those messages as untrusted input: sizes
capped, JSON only, and in exactly the order the job implies (import, each planned probe once,
then training or sampling, then done). Anything else is an intrusion: the worker is killed and
the judge is told. What the submission printed is read by the supervisor from the worker's
stdout and stderr, not reported by the worker.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import struct

_HEADER = struct.Struct(">4sIQ")  # magic, json length, blob length
_MAGIC = b"DGMW"
MAX_JSON = 64 * 1024 * 1024
_PR_SET_DUMPABLE = 4
_WRITE = os.write
_dumps = json.dumps


class Intrusion(Exception):
    """The worker's channel carried something the harness did not write."""


def encode_message(kind: str, payload: dict, blob: bytes = b"") -> bytes:
    body = _dumps({"kind": kind, "payload": payload}).encode()
    return _HEADER.pack(_MAGIC, len(body), len(blob)) + body + blob


def read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, budget: int) -> tuple[str, dict, bytes]:
    """One message from the worker; EOFError at its end, Intrusion if it is not one of ours."""
    magic, json_len, blob_len = _HEADER.unpack(read_exactly(fd, _HEADER.size))  # EOFError: the worker ended
    if magic != _MAGIC:
        raise Intrusion("a message that does not start like the harness's")
    if json_len > MAX_JSON or json_len + blob_len > budget:
        raise Intrusion(f"a message of {(json_len + blob_len) / 2**20:.1f} MB, over the channel's limit")
    try:
        message = json.loads(read_exactly(fd, json_len))
        blob = read_exactly(fd, blob_len)
    except EOFError:
        raise Intrusion("a message cut short") from None
    except ValueError:
        raise Intrusion("a message that is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str) or \
            not isinstance(message.get("payload"), dict):
        raise Intrusion("a message of the wrong shape")
    return message["kind"], message["payload"], blob


class Sequence:
    """What the worker may say next, given the job: import, each planned probe once in order, then the
    mode's frames, then done."""

    MODE_FRAMES = {"train": {"progress": None, "checkpoint": 1, "training": 1},
                   "sample": {"samples": 1, "sampling": 1}}

    def __init__(self, spec: dict):
        self.probes = [str(p.get("id")) for p in spec.get("probes", [])]
        self.mode = spec.get("mode", "probes")
        self.stage = "start"  # start -> import -> probe:<i> -> mode -> done
        self.next_probe = 0
        self.counts: dict[str, int] = {}

    def accept(self, kind: str, payload: dict) -> None:
        if self.stage == "done":
            raise Intrusion(f"a {kind!r} message after the end")
        if kind == "done":
            if self.stage == "start":
                raise Intrusion("the end before the import")
            self.stage = "done"
            return
        if kind == "phase":
            return self._phase(payload)
        if kind == "probe":
            expected = self.probes[self.next_probe - 1] if self.next_probe else None
            if self.stage != "probe" or payload.get("id") != expected or self.counts.get(f"probe:{expected}"):
                raise Intrusion(f"results for probe {str(payload.get('id'))[:80]!r} out of turn")
            self.counts[f"probe:{expected}"] = 1
            return
        allowed = self.MODE_FRAMES.get(self.mode, {})
        if self.stage != "mode" or kind not in allowed:
            raise Intrusion(f"a {kind[:40]!r} message out of turn")
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if allowed[kind] is not None and self.counts[kind] > allowed[kind]:
            raise Intrusion(f"a second {kind!r} message")

    def _phase(self, payload: dict) -> None:
        phase, probe = payload.get("phase"), payload.get("probe")
        if phase == "import" and self.stage == "start":
            self.stage = "import"
        elif probe is not None and self.stage in ("import", "probe") and self.next_probe < len(self.probes) \
                and probe == self.probes[self.next_probe] \
                and (self.next_probe == 0 or self.counts.get(f"probe:{self.probes[self.next_probe - 1]}")):
            self.stage, self.next_probe = "probe", self.next_probe + 1
        elif phase == self.mode and phase in self.MODE_FRAMES and self.stage in ("import", "probe") \
                and self.next_probe == len(self.probes):
            self.stage = "mode"
        else:
            raise Intrusion(f"a phase message out of turn ({str(phase or probe)[:80]})")


def make_undumpable() -> None:
    """Keep the worker (same user) out of this process's memory and file descriptors (/proc/<pid>/mem,
    /proc/<pid>/fd): only a non-dumpable process is protected from a process of its own user."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def exit_like(status: int) -> None:
    """End this process the way the worker ended (its exit code, or 128 + the signal that killed it)."""
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_WRITE(fd, view):]
