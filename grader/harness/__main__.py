"""Harness entry point: `python -m grader.harness` (in the image: `-m dgm_harness`).

Imports torch first (so a pre-started container has paid for it), then forks the worker that will
run the submission, before any job arrives. The supervisor (this process, supervisor.py) reads
the job on stdin, keeps its nonce, hands the rest to the worker, and relays the worker's messages
as frames on the private channel (a copy of stdout) after checking each one. The worker imports
the student's module from scratch space and runs the planned probes (runner.py); a training job
then trains or samples (training.py). What the submission prints goes to a pipe the supervisor
reads (capture.py).
"""
from __future__ import annotations

import os
import signal
import sys
import time

STARTED = time.monotonic()

import torch  # noqa: E402  (timed: the largest fixed cost of a grading)
from safetensors.torch import load as load_tensors  # noqa: E402

from . import guards, protocol  # noqa: E402
from .capture import OutputCapture  # noqa: E402
from .runner import run_job  # noqa: E402
from .supervisor import (  # noqa: E402
    Intrusion,
    Sequence,
    encode_message,
    exit_like,
    kill_quietly,
    make_undumpable,
    read_message,
    write_all,
)

IMPORTED = time.monotonic()
DEFAULT_CHANNEL_CAP = 256 * 1024 * 1024


class Messenger:
    """The worker's side of its channel to the supervisor; a process the student forked never writes."""

    def __init__(self, fd: int):
        self.fd, self.pid = fd, os.getpid()

    def __call__(self, kind: str, payload: dict, blob: bytes = b"") -> None:
        if os.getpid() != self.pid:
            os._exit(0)
        write_all(self.fd, encode_message(kind, payload, blob))


def worker(job_fd: int, message_fd: int) -> None:
    """The forked process that runs the submission; it never sees the nonce."""
    spec, blob = protocol.read_job(lambda n: os.read(job_fd, n))
    os.close(job_fd)
    received = time.monotonic()
    torch.set_num_threads(int(spec.get("threads", 1)))
    torch.manual_seed(int(spec.get("seed", 0)))
    mode = guards.install(spec.get("guards", {}))
    tensors = load_tensors(blob) if blob else {}
    timings = {"worker_start_s": time.monotonic() - received}
    run_job(spec, tensors, Messenger(message_fd), scratch=os.environ.get("DGM_SCRATCH", "/tmp"), guard_mode=mode,
            timings=timings)


def relay(spec: dict, child: int, message_fd: int, capture: OutputCapture, emit, timings: dict) -> None:
    """Frames for the judge from the worker's messages, in the order the job allows; the submission's
    output from the capture. Returns when the worker has ended; exits like it if it never said done."""
    sequence, budget = Sequence(spec), int(spec.get("channel_cap", DEFAULT_CHANNEL_CAP))
    done = None
    try:
        while True:
            try:
                kind, payload, blob = read_message(message_fd, budget)
            except EOFError:
                break
            budget -= len(blob) + 1024
            sequence.accept(kind, payload)
            if kind == "done":
                done = payload
                break
            emit(kind, payload, blob)
    except Intrusion as intrusion:
        kill_quietly(child)
        os.waitpid(child, 0)
        emit("intrusion", {"reason": str(intrusion)[:300]})
        emit("done", {"output": capture.report(), "timings": timings})
        os._exit(0)
    _, status = os.waitpid(child, 0)
    if done is None:
        exit_like(status)
    harness_timings = done.get("timings") if isinstance(done.get("timings"), dict) else {}
    emit("done", {**done, "output": capture.report(), "timings": {**harness_timings, **timings}})


class Emitter:
    """Frames on the private channel: only the supervisor has it."""

    def __init__(self, fd: int, nonce: str):
        self.fd, self.nonce = fd, nonce

    def __call__(self, kind: str, payload: dict, blob: bytes = b"") -> None:
        write_all(self.fd, protocol.encode_frame(self.nonce, kind, payload, blob))


def main() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the file-size limit: OSError, not death
    private_stdout = os.dup(1)
    job_r, job_w = os.pipe()
    message_r, message_w = os.pipe()
    output_r, output_w = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: no nonce, no private channel, no stdin; prints go to the capture pipe
        for fd in (private_stdout, job_w, message_r, output_r):
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        for fd in (devnull, output_w):
            os.close(fd)
        try:
            worker(job_r, message_w)
        finally:
            os._exit(0)  # student threads must not keep the sandbox alive
    for fd in (job_r, message_w, output_w):
        os.close(fd)
    make_undumpable()
    spec, blob = protocol.read_job(sys.stdin.buffer.read)
    job_received = time.monotonic()
    nonce = spec.pop("nonce")
    capture = OutputCapture(output_r, int(spec.get("output_cap", 20000)))
    try:
        write_all(job_w, protocol.encode_job(spec, blob))
    except BrokenPipeError:
        pass  # the worker died before reading its job: its exit status tells how
    os.close(job_w)
    timings = {"torch_import_s": IMPORTED - STARTED, "job_wait_s": job_received - IMPORTED}
    relay(spec, child, message_r, capture, Emitter(private_stdout, nonce), timings)
    os._exit(0)


if __name__ == "__main__":
    main()
