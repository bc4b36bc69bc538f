"""The capture of what a submission prints (grader/harness/capture.py): the worker's fds 1 and 2 are a pipe
whose read end the supervisor drains. Each case runs a real worker process (a fork) writing to the pipe."""
from __future__ import annotations

import os
import time

from grader.harness.capture import OutputCapture


def _worker(body) -> tuple[OutputCapture, int]:
    """Fork a process whose stdout and stderr are the capture's pipe, run `body` in it, end it."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        try:
            body()
        finally:
            os._exit(0)
    os.close(write_fd)
    return read_fd, pid


def test_the_report_holds_the_last_thing_printed_every_time():
    lost = []
    for attempt in range(100):
        def body(attempt=attempt):
            for _ in range(attempt % 7):
                os.write(1, b"x" * 4096)
            os.write(2, f"last line {attempt}\n".encode())

        read_fd, pid = _worker(body)
        capture = OutputCapture(read_fd, 1 << 20)
        os.waitpid(pid, 0)  # the supervisor reports once the worker has ended
        if not capture.report()["text"].endswith(f"last line {attempt}\n"):
            lost.append(attempt)
        os.close(read_fd)
    assert lost == []


def test_output_past_the_cap_is_counted_not_kept():
    read_fd, pid = _worker(lambda: os.write(1, b"a" * 250 + b"\n"))
    capture = OutputCapture(read_fd, 100)
    os.waitpid(pid, 0)
    assert capture.report() == {"text": "a" * 100, "bytes": 251}
    os.close(read_fd)


def test_a_forked_child_that_keeps_the_pipe_open_delays_the_report_by_at_most_the_timeout():
    def body():
        if os.fork() == 0:  # the submission's own child, holding the write end
            time.sleep(3)
            os._exit(0)
        os.write(1, b"parent\n")

    read_fd, pid = _worker(body)
    capture = OutputCapture(read_fd, 1000)
    os.waitpid(pid, 0)
    started = time.monotonic()
    report = capture.report(timeout=0.5)
    assert report["text"] == "parent\n" and time.monotonic() - started < 2.5
