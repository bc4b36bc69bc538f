"""Containers never outlive a grading: warm pool, interrupted and killed workers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.judge import grade
from grader.sandbox.docker_sandbox import DockerSandbox, reap_stale, sandbox_containers, worker_identity
from grader.spec import REPO_ROOT, load_exercise
from tests.conftest import leftover_containers, processes_in_containers

pytestmark = pytest.mark.docker  # every test here grades in the real sandbox

HANG = Path(__file__).resolve().parent.parent / "attacks" / "sleep_ignoring_alarm.py"


def wait_until(condition, what: str, timeout: float = 60.0) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_warm_pool_grades_each_submission_in_its_own_container(docker_sandbox):
    exercise = load_exercise("vae-reparam")
    pool = DockerSandbox(docker_sandbox.image, docker_sandbox.client, warm=1)
    try:
        results = [grade(exercise, "s.py", exercise.solution().source().encode(), sandbox=pool) for _ in range(2)]
        wait_until(lambda: len(pool.container_ids) >= 3, "the refill thread to start its container")
    finally:
        pool.close()
    assert [r.score for r in results] == [exercise.max_score] * 2
    assert len(set(pool.container_ids)) == len(pool.container_ids) >= 3  # 2 used + at least 1 pre-started
    assert leftover_containers(pool, pool.container_ids) == []
    assert processes_in_containers(pool.container_ids) == []


def test_closing_while_a_refill_starts_its_container_leaves_none(docker_sandbox):
    """The race of a worker stopping right after a grading: the refill is still creating its container."""
    exercise = load_exercise("vae-reparam")
    pool = DockerSandbox(docker_sandbox.image, docker_sandbox.client, warm=1)
    grade(exercise, "s.py", exercise.solution().source().encode(), sandbox=pool)
    pool.close()  # the refill thread has just been started: close waits for it and removes what it made
    assert not any(t.is_alive() for t in pool._refills)
    assert len(pool.container_ids) >= 1
    assert leftover_containers(pool, pool.container_ids) == []


def _sandbox_containers(client, worker: str | None = None) -> set[str]:
    return {c["Id"] for c in sandbox_containers(client, worker)}


def _start_grading(client) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", "vae-reparam", str(HANG)], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": "."})
    for _ in range(300):
        mine = _sandbox_containers(client, worker_identity(proc.pid))
        if mine:
            return proc, mine.pop()
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("no sandbox container appeared")


def _running(client, container_id: str) -> bool:
    return client.containers.get(container_id).status == "running"


def test_an_interrupted_worker_removes_its_container(docker_sandbox):
    proc, container_id = _start_grading(docker_sandbox.client)
    wait_until(lambda: _running(docker_sandbox.client, container_id), "the grading's container to run")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert container_id not in _sandbox_containers(docker_sandbox.client)
    assert processes_in_containers([container_id]) == []


def test_a_killed_workers_container_is_reaped(docker_sandbox):
    proc, container_id = _start_grading(docker_sandbox.client)
    wait_until(lambda: _running(docker_sandbox.client, container_id), "the grading's container to run")
    proc.kill()  # SIGKILL: no finally block runs
    proc.wait(timeout=30)
    assert container_id in _sandbox_containers(docker_sandbox.client)
    assert reap_stale(docker_sandbox.client) >= 1  # its worker process is gone: an orphan
    assert container_id not in _sandbox_containers(docker_sandbox.client)
    assert processes_in_containers([container_id]) == []


def test_reaping_spares_containers_of_live_workers(docker_sandbox):
    proc, container_id = _start_grading(docker_sandbox.client)
    try:  # SIGTERM may come while the engine still starts it: the worker removes it all the same
        reap_stale(docker_sandbox.client)
        assert container_id in _sandbox_containers(docker_sandbox.client)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert container_id not in _sandbox_containers(docker_sandbox.client)
