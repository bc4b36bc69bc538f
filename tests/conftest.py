"""Shared fixtures. Docker tests need a running engine: `make test` starts one
(scripts/start-docker.sh) and builds the image; here we require, never skip."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.sandbox.docker_sandbox import DockerSandbox, docker_client, sandbox_containers


@pytest.fixture(scope="session")
def docker_sandbox() -> DockerSandbox:
    from grader.image import build_image

    client = docker_client()  # raises SandboxUnavailable: the test errors, it does not skip
    return DockerSandbox(build_image("cpu", log=lambda *_: None), client)


def leftover_containers(sandbox: DockerSandbox, ids: list[str]) -> list[str]:
    alive = {c["Id"] for c in sandbox_containers(sandbox.client)}
    return [i[:12] for i in ids if i in alive]


def processes_in_containers(ids: list[str]) -> list[str]:
    """Host processes whose cgroup names one of the containers (they share the host's process table)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cgroup = (proc / "cgroup").read_text()
        except OSError:
            continue
        if any(i in cgroup for i in ids):
            found.append(proc.name)
    return found


@pytest.fixture
def clean_docker(docker_sandbox):
    """Yields the sandbox and asserts the test left no container and no process behind."""
    before = len(docker_sandbox.container_ids)
    yield docker_sandbox
    ids = docker_sandbox.container_ids[before:]
    assert ids, "the test created no container"
    assert leftover_containers(docker_sandbox, ids) == []
    assert processes_in_containers(ids) == []
