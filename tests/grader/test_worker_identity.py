"""Whether a sandbox's worker is gone (what reaping and the dead-worker requeue rely on): a live process is
not, an exited one is, and so is a zombie (killed, not yet reaped by its parent)."""
import os
import socket
import subprocess
import time
from pathlib import Path

from grader.sandbox.docker_sandbox import worker_identity, worker_is_gone


def test_live_exited_and_zombie_workers():
    assert worker_identity() == f"{socket.gethostname()}:{os.getpid()}"
    assert not worker_is_gone(worker_identity())  # this process
    exited = subprocess.Popen(["true"])
    exited.wait()
    assert worker_is_gone(worker_identity(exited.pid))
    zombie = subprocess.Popen(["true"])  # not waited for: a zombie until we reap it
    deadline = time.monotonic() + 10
    while Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert worker_is_gone(worker_identity(zombie.pid))
    finally:
        zombie.wait()
    assert not worker_is_gone(f"another-host.invalid:{exited.pid}")  # other hosts are not judged from here
