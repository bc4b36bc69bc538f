"""`make run`'s script in a real pseudo-terminal: it brings the platform up (gunicorn, the quick and
training worker pools, beat), and Ctrl-C, typed as a user would, stops the web server, the workers
and beat, removes the sandboxes of the training runs it interrupted, leaves the Docker engine
running, and ends with a "stopped" line and no traceback."""
from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from grader.sandbox.docker_sandbox import LABEL, docker_client

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = b"Ctrl-C stops everything."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_until(fd: int, needle: bytes, timeout: float, buffer: bytearray) -> bool:
    deadline = time.monotonic() + timeout
    while needle not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                return needle in buffer
            if not chunk:
                return needle in buffer
            buffer += chunk
    return True


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if text in cmdline or text.encode() in environ:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


@pytest.mark.docker
def test_ctrl_c_in_a_terminal_stops_the_platform_but_not_the_engine(tmp_path):
    client = docker_client()
    before = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
    var, port, redis_port = tmp_path / "var", _free_port(), _free_port()
    env = {**os.environ, "DGM_VAR_DIR": str(var), "PORT": str(port), "REDIS_PORT": str(redis_port),
           "DGM_TRAINING_PROFILE": "tiny", "TERM": "dumb"}
    for name in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY"):
        env.pop(name, None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a login-like terminal session running the script
        os.chdir(REPO_ROOT)
        os.execvpe("bash", ["bash", "scripts/run-platform.sh"], env)
    output = bytearray()
    try:
        assert _read_until(fd, READY, 420, output), output.decode(errors="replace")[-3000:]
        # Let the training pool start the baselines that sync_exercises queued: Ctrl-C then interrupts training.
        deadline = time.monotonic() + 180
        while not {c.id for c in client.containers.list(filters={"label": LABEL})} - before:
            assert time.monotonic() < deadline, "no sandbox started:\n" + (var / "log" / "worker-training.log"
                                                                          ).read_text()[-3000:]
            time.sleep(0.5)
        os.write(fd, b"\x03")  # Ctrl-C, as typed: the terminal sends SIGINT to its foreground process group
        assert _read_until(fd, b"stopped:", 120, output), output.decode(errors="replace")[-3000:]
        _read_until(fd, b"\0never", 20, output)  # to the end of its output
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "the test's redis-server did not stop"
            time.sleep(0.1)
    text = output.decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text[-2000:]
    assert "Traceback" not in text, text[-3000:]
    assert "stopped: web server, workers and beat" in text
    assert _processes_mentioning(str(var)) == []  # no web server, worker or beat of this run is left
    assert client.ping()  # the engine still answers
    assert {c.id for c in client.containers.list(all=True, filters={"label": LABEL})} - before == set()
