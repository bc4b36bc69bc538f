"""Fault test: a real Celery worker is SIGKILLed (its whole process group) in the middle of a grading.
A new worker must remove the dead worker's sandbox container and grade the submission exactly once:
one submission, one result, one attempt charged."""
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from grader.sandbox.docker_sandbox import sandbox_containers
from submissions.models import Submission
from submissions.services import submission_attempts_used, submission_create

from .conftest import SOLUTION

# The reference solution, with an import that takes 4 s inside the sandbox: the worker is mid-grade.
SLOW_SOLUTION = b"import time\ntime.sleep(4)\n" + SOLUTION


def _containers(client, worker: str) -> list:
    return sandbox_containers(client, worker)


def _log(proc) -> str:
    return Path(proc.log_path).read_text(errors="replace")[-4000:]


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_mid_grading_is_graded_exactly_once_by_the_next(world, docker_sandbox, start_worker):
    client = docker_sandbox.client
    first = start_worker()
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="slow.py", data=SLOW_SOLUTION)

    # Wait until the first worker has claimed it and its sandbox container exists.
    deadline = time.monotonic() + 180
    while True:
        sub.refresh_from_db()
        if sub.status == "running" and sub.worker and _containers(client, sub.worker):
            break
        assert first.poll() is None, _log(first)
        assert sub.status in ("queued", "running"), (sub.status, sub.result)
        assert time.monotonic() < deadline, "the grading never started:\n" + _log(first)
        time.sleep(0.1)
    dead_worker, dead_token = sub.worker, sub.claim_token
    assert dead_worker.startswith(socket.gethostname() + ":")

    os.killpg(first.pid, signal.SIGKILL)  # the worker's parent and its pool child, no clean-up at all
    first.wait(10)
    sub.refresh_from_db()
    assert sub.status == "running" and sub.claim_token == dead_token  # the claim of a dead worker
    assert _containers(client, dead_worker), "the SIGKILLed worker's container should still be there"

    second = start_worker()
    deadline = time.monotonic() + 180
    while True:
        sub.refresh_from_db()
        if not sub.is_pending:
            break
        assert second.poll() is None, _log(second)
        assert time.monotonic() < deadline, "not regraded in time:\n" + _log(second)
        time.sleep(0.2)

    assert sub.status == "graded" and sub.score == sub.max_score == 14, sub.result
    assert sub.worker != dead_worker and sub.claim_token != dead_token
    assert sub.infra_failures == 0 and sub.history == []
    assert Submission.objects.count() == 1
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 1
    assert _containers(client, dead_worker) == []  # reaped when the new worker started
    log = _log(second)
    assert f"requeued jobs claimed by dead workers: {{'submissions': [{sub.pk}], 'baselines': []}}" in log
    assert len(re.findall(r"grade_submission\[[^\]]+\] succeeded in [0-9.]+s: 'graded'", log)) == 1, log
    # and nothing of either worker is left running in Docker (the second removes its container as it finishes)
    deadline = time.monotonic() + 30
    while _containers(client, sub.worker):
        assert time.monotonic() < deadline, "the second worker's container was not removed"
        time.sleep(0.1)
