"""Harness entry point: `python -m grader.harness` (in the image: `-m dgm_harness`).

Imports torch first (so a pre-started container has paid for it), then blocks
on stdin for the job, imports the student's module from scratch space and runs
the planned probes, sending each probe's outputs as a frame on a private copy
of stdout; a training job then trains or samples (training.py). The student's
own prints go through a capped pipe (capture.py).
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

IMPORTED = time.monotonic()

_write = os.write


class Emitter:
    """Writes frames to the private stdout; a process the student forked never does."""

    def __init__(self, fd: int, nonce: str):
        self.fd, self.nonce, self.pid = fd, nonce, os.getpid()

    def __call__(self, kind: str, payload: dict, blob: bytes = b"") -> None:
        if os.getpid() != self.pid:
            os._exit(0)
        data = memoryview(protocol.encode_frame(self.nonce, kind, payload, blob))
        while data:
            data = data[_write(self.fd, data):]


def main() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the file-size limit: OSError, not death
    private_stdout = os.dup(1)
    spec, blob = protocol.read_job(sys.stdin.buffer.read)
    job_received = time.monotonic()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    scratch = os.environ.get("DGM_SCRATCH", "/tmp")
    capture = OutputCapture(int(spec.get("output_cap", 20000)))

    torch.set_num_threads(int(spec.get("threads", 1)))
    torch.manual_seed(int(spec.get("seed", 0)))
    mode = guards.install(spec.get("guards", {}))
    tensors = load_tensors(blob) if blob else {}
    emit = Emitter(private_stdout, spec["nonce"])
    timings = {"torch_import_s": IMPORTED - STARTED, "job_wait_s": job_received - IMPORTED}
    run_job(spec, tensors, emit, scratch=scratch, capture=capture, guard_mode=mode, timings=timings)
    os._exit(0)  # student threads must not keep the sandbox alive


if __name__ == "__main__":
    main()
