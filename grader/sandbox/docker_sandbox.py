"""The Docker sandbox: the only place student code runs.

One fresh container per grading: no network, non-root, read-only root, a
size-capped tmpfs for scratch, memory = memory+swap limit, pids limit, CPU
quota, no-new-privileges, all capabilities dropped, no log driver (output is
read live from the attached socket under a cap), wall clock enforced from
here, and the container is removed in every case.
"""
from __future__ import annotations

import socket
import threading
import time

import docker
from docker.errors import DockerException, ImageNotFound
from requests import RequestException
from docker.types import DeviceRequest, LogConfig, Ulimit

from ..spec import Limits
from . import Sandbox, SandboxRun, SandboxUnavailable
from .stream import DockerStreamReader

LABEL = "dgm.sandbox"
ENGINE_ERRORS = (DockerException, RequestException, OSError)
SANDBOX_USER = "10001:10001"
STDERR_CAP = 64 * 1024
KILL_GRACE_S = 20


def _kill_quietly(container) -> None:
    try:
        container.kill()
    except DockerException:
        pass  # already exited


def container_config(image: str, limits: Limits, *, labels: dict[str, str]) -> dict:
    """Keyword arguments for `containers.create`: every hardening option in one place."""
    scratch_bytes = limits.scratch_mb * 1024 * 1024
    config = dict(
        image=image,
        command=["python3", "-s", "-B", "-m", "dgm_harness"],
        user=SANDBOX_USER,
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={limits.scratch_mb}m,mode=1777"},
        mem_limit=f"{limits.memory_mb}m",
        memswap_limit=f"{limits.memory_mb}m",
        pids_limit=limits.pids,
        nano_cpus=int(limits.cpus * 1e9),
        security_opt=["no-new-privileges"],
        cap_drop=["ALL"],
        ulimits=[Ulimit(name="fsize", soft=scratch_bytes, hard=scratch_bytes), Ulimit(name="core", soft=0, hard=0),
                 Ulimit(name="nofile", soft=256, hard=256)],
        environment={"HOME": "/tmp", "DGM_SCRATCH": "/tmp", "OMP_NUM_THREADS": str(max(1, int(limits.cpus))),
                     "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"},
        stdin_open=True,
        tty=False,
        detach=True,
        labels={LABEL: "1", **labels},
        log_config=LogConfig(type="none"),
    )
    if limits.gpu:
        config["device_requests"] = [DeviceRequest(count=1, capabilities=[["gpu"]])]
        config["environment"]["NVIDIA_VISIBLE_DEVICES"] = "all"
    return config


def docker_client(timeout: int = 30) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except ENGINE_ERRORS as exc:
        raise SandboxUnavailable(f"Docker engine not reachable: {exc}") from None


def reap_stale(client: docker.DockerClient, older_than_s: float) -> int:
    """Remove sandbox containers left by a worker that died (SIGKILL skips our `finally`)."""
    removed = 0
    now = time.time()
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        created = c.attrs.get("Created", "")
        started = _parse_docker_time(created)
        if started is None or now - started > older_than_s:
            c.remove(force=True)
            removed += 1
    return removed


def _parse_docker_time(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00").timestamp()
    except ValueError:
        return None


class DockerSandbox(Sandbox):
    name = "docker"

    def __init__(self, image: str, client: docker.DockerClient | None = None):
        self.image = image
        self.client = client or docker_client()
        self.container_ids: list[str] = []  # every container this sandbox created, for audits in tests

    def image_id(self) -> str:
        try:
            return self.client.images.get(self.image).id
        except ImageNotFound:
            raise SandboxUnavailable(f"sandbox image {self.image} is not built (run `python -m grader build-image`)") \
                from None
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Docker engine error: {exc}") from None

    def run(self, job: bytes, limits: Limits) -> SandboxRun:
        image_id = self.image_id()
        timings: dict[str, float] = {}
        t0 = time.monotonic()
        try:
            container = self.client.containers.create(**container_config(self.image, limits, labels={}))
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"could not create the sandbox container: {exc}") from None
        self.container_ids = [*self.container_ids[-999:], container.id]
        try:
            return self._run_in(container, job, limits, timings, t0, image_id)
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Docker engine error during grading: {exc}") from None
        finally:
            try:
                container.remove(force=True)
            except ENGINE_ERRORS:
                pass  # reap_stale catches it later

    def _run_in(self, container, job: bytes, limits: Limits, timings: dict, t0: float, image_id: str) -> SandboxRun:
        attached = self.client.api.attach_socket(
            container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        sock: socket.socket = getattr(attached, "_sock", attached)
        container.start()
        timings["container_start_s"] = time.monotonic() - t0
        deadline = time.monotonic() + limits.wall_time_s
        sock.settimeout(limits.wall_time_s)
        try:
            sock.sendall(job)
        except OSError:
            pass  # the process died before reading its job; the exit status tells why
        sock.settimeout(None)
        reader = DockerStreamReader(sock, limits.output_mb * 1024 * 1024, STDERR_CAP)
        outcome = reader.read_until(deadline)
        if outcome != "eof":
            # Kill while still draining the stream: dockerd blocks on an attach
            # stream nobody reads, and the kill would wait behind it.
            killer = threading.Thread(target=_kill_quietly, args=(container,), daemon=True)
            killer.start()
            reader.drain(time.monotonic() + KILL_GRACE_S)
            killer.join(KILL_GRACE_S)
        sock.close()
        state = container.wait(timeout=30)
        container.reload()
        run_state = container.attrs.get("State", {})
        timings["run_s"] = time.monotonic() - t0 - timings["container_start_s"]
        return SandboxRun(
            stdout=bytes(reader.stdout.data), stderr=bytes(reader.stderr.data),
            exit_code=state.get("StatusCode"), timed_out=outcome == "timeout",
            oom_killed=bool(run_state.get("OOMKilled")), output_overflow=outcome == "overflow",
            image=image_id, device="cuda" if limits.gpu else "cpu", timings=timings)
