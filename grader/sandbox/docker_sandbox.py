"""The Docker sandbox: the only place student code runs.

One fresh container per grading: no network, non-root, read-only root, a
size-capped tmpfs for scratch, memory = memory+swap limit, pids limit, CPU
quota, no-new-privileges, all capabilities dropped, no log driver (output is
read live from the attached socket under a cap), wall clock enforced from
here, and the container is removed in every case.
"""
from __future__ import annotations

import atexit
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound
from docker.types import DeviceRequest, LogConfig, Mount, Ulimit
from requests import RequestException

from ..progress import Cancelled
from ..spec import Limits
from . import Sandbox, SandboxRun, SandboxUnavailable
from .stream import DockerStreamReader

LABEL = "dgm.sandbox"
WORKER_LABEL = "dgm.worker"
ENGINE_ERRORS = (DockerException, RequestException, OSError)


def worker_identity(pid: int | None = None) -> str:
    """host:pid of the process that owns a container, recorded as a label for audits and reaping."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"
SANDBOX_USER = "10001:10001"
STDERR_CAP = 64 * 1024
KILL_GRACE_S = 20


def _kill_quietly(container) -> None:
    try:
        container.kill()
    except DockerException:
        pass  # already exited


def container_config(image: str, limits: Limits, *, labels: dict[str, str],
                     mounts: dict[str, str] | None = None, cpu_shares: int | None = None,
                     gpu_device: str | None = None, command: list[str] | None = None) -> dict:
    """Keyword arguments for `containers.create`: every hardening option in one place.
    `mounts` ({host path: container path}) are bind mounts, always read-only. `cpu_shares` is the
    container's CPU weight when the host is busy (Docker's default is 1024). A GPU run gets one GPU:
    `gpu_device` (its index or UUID, the worker's own: one job per GPU), else any one. `command`
    replaces the harness (DockerSandbox.run_program), under the same hardening."""
    scratch_bytes = limits.scratch_mb * 1024 * 1024
    config = dict(
        image=image,
        command=command or ["python3", "-s", "-B", "-m", "dgm_harness"],
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
    if cpu_shares is not None:
        config["cpu_shares"] = cpu_shares
    if mounts:
        config["mounts"] = [Mount(target=target, source=str(source), type="bind", read_only=True)
                            for source, target in mounts.items()]
    if limits.gpu:
        config["device_requests"] = [DeviceRequest(device_ids=[gpu_device], capabilities=[["gpu"]]) if gpu_device
                                     else DeviceRequest(count=1, capabilities=[["gpu"]])]
        config["environment"]["NVIDIA_VISIBLE_DEVICES"] = "all"
    return config


def docker_client(timeout: int = 30) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except ENGINE_ERRORS as exc:
        raise SandboxUnavailable(f"Docker engine not reachable: {exc}") from None


def worker_is_gone(identity: str) -> bool:
    """True if the container's worker ran on this host and that process no longer exists, or is a zombie
    (killed, not yet reaped: an orphan waits for init, which may take its time)."""
    host, _, pid = identity.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # it went away meanwhile
    return stat.rpartition(")")[2].split()[:1] in (["Z"], ["X"])  # the state follows the command's ")"


def sandbox_containers(client: docker.DockerClient, worker: str | None = None) -> list[dict]:
    """The engine's one-call summaries (`Id`, `Labels`, `Created` in epoch seconds, `State`) of this
    project's sandbox containers, of one worker if given. One list call and no per-container
    inspect, so a container removed meanwhile cannot make it fail (docker-py's `containers.list`
    inspects each one and raises NotFound then)."""
    labels = [LABEL] + ([f"{WORKER_LABEL}={worker}"] if worker else [])
    return client.api.containers(all=True, filters={"label": labels})


def reap_stale(client: docker.DockerClient, older_than_s: float | None = None) -> int:
    """Remove sandbox containers whose worker died (SIGKILL skips our `finally`):
    those of dead worker processes on this host, and, if `older_than_s` is given,
    any older than that (for workers on hosts that are gone)."""
    removed = 0
    now = time.time()
    for c in sandbox_containers(client):
        orphan = worker_is_gone((c.get("Labels") or {}).get(WORKER_LABEL, ""))
        too_old = older_than_s is not None and now - float(c.get("Created", 0)) > older_than_s
        if orphan or too_old:
            try:
                client.api.remove_container(c["Id"], force=True)
                removed += 1
            except ENGINE_ERRORS:
                pass  # removed meanwhile by its own worker
    return removed


@dataclass
class Started:
    """A running container whose harness has imported torch and waits for its job on stdin."""

    container: object
    sock: socket.socket
    started_at: float


class DockerSandbox(Sandbox):
    """One container per grading. With `warm=N`, up to N containers per limits
    profile are started ahead of time (torch already imported, waiting on stdin);
    each still serves exactly one submission and is then removed."""

    name = "docker"
    MAX_WARM_AGE_S = 600

    def __init__(self, image: str, client: docker.DockerClient | None = None, *, warm: int = 0,
                 cpu_shares: int | None = None, gpu_device: str | None = None):
        self.image = image
        self.client = client or docker_client()
        self.warm = warm
        self.cpu_shares = cpu_shares  # e.g. training sandboxes weigh less than function gradings
        self.gpu_device = gpu_device
        self.container_ids: list[str] = []  # every container this sandbox created, for audits in tests
        self._pool: dict[Limits, list[Started]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._refills: list[threading.Thread] = []
        if warm:
            atexit.register(self.close)

    def image_id(self) -> str:
        try:
            return self.client.images.get(self.image).id
        except ImageNotFound:
            raise SandboxUnavailable(f"sandbox image {self.image} is not built (run `python -m grader build-image`)") \
                from None
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Docker engine error: {exc}") from None

    def _start(self, limits: Limits, mounts: dict[str, str] | None = None,
               command: list[str] | None = None) -> Started:
        try:
            container = self.client.containers.create(
                **container_config(self.image, limits, labels={WORKER_LABEL: worker_identity()}, mounts=mounts,
                                   cpu_shares=self.cpu_shares, gpu_device=self.gpu_device, command=command))
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"could not create the sandbox container: {exc}") from None
        with self._lock:
            self.container_ids = [*self.container_ids[-999:], container.id]
        try:
            attached = self.client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            container.start()
        except ENGINE_ERRORS as exc:
            _remove_quietly(container)
            raise SandboxUnavailable(f"could not start the sandbox container: {exc}") from None
        except BaseException:  # SIGTERM's SystemExit while the engine starts it: it must not outlive us
            _remove_quietly(container)
            raise
        return Started(container, getattr(attached, "_sock", attached), time.monotonic())

    def _take_warm(self, limits: Limits) -> Started | None:
        while True:
            with self._lock:
                pool = self._pool.get(limits, [])
                started = pool.pop(0) if pool else None
            if started is None:
                return None
            if time.monotonic() - started.started_at < self.MAX_WARM_AGE_S:
                return started
            started.sock.close()
            _remove_quietly(started.container)

    def _refill(self, limits: Limits) -> None:
        with self._lock:
            missing = 0 if self._closed else self.warm - len(self._pool.setdefault(limits, []))
        for _ in range(max(missing, 0)):
            try:
                started = self._start(limits)
            except SandboxUnavailable:
                return  # the next grading starts cold and reports the problem
            with self._lock:
                if not self._closed:
                    self._pool.setdefault(limits, []).append(started)
                    continue
            started.sock.close()  # closed while this one started: it must not outlive the sandbox
            _remove_quietly(started.container)
            return

    def _start_refill(self, limits: Limits) -> None:
        thread = threading.Thread(target=self._refill, args=(limits,), daemon=True)
        with self._lock:
            self._refills = [t for t in self._refills if t.is_alive()] + [thread]
        thread.start()

    def close(self, timeout: float = 60.0) -> None:
        """Remove the pre-started containers, and those that refills still in flight start (waited for:
        a process that exits meanwhile would leave them running)."""
        with self._lock:
            self._closed = True
            pools, self._pool = self._pool, {}
            refills = list(self._refills)
        for started in [s for pool in pools.values() for s in pool]:
            started.sock.close()
            _remove_quietly(started.container)
        deadline = time.monotonic() + timeout
        for thread in refills:
            thread.join(max(0.0, deadline - time.monotonic()))

    def run(self, job: bytes, limits: Limits, *, mounts: dict[str, str] | None = None, on_output=None,
            cancel=None) -> SandboxRun:
        """A run with mounts always starts its own container: warm ones have none. A cancelled run's
        container is killed and removed like any other, then Cancelled is raised."""
        image_id = self.image_id()
        t0 = time.monotonic()
        pooled = bool(self.warm) and not mounts
        started = self._take_warm(limits) if pooled else None
        timings = {"warm_container": 1.0 if started else 0.0}
        if started is None:
            started = self._start(limits, mounts)
        timings["container_start_s"] = time.monotonic() - t0
        try:
            raw = self._run_in(started, job, limits, timings, image_id, on_output, cancel)
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Docker engine error during grading: {exc}") from None
        finally:
            _remove_quietly(started.container)  # reap_stale catches what this misses
            if pooled:  # after, not during: a refill importing torch would compete for the CPU
                self._start_refill(limits)
        if raw.cancelled:
            raise Cancelled("the job was cancelled while it ran")
        return raw

    def run_program(self, command: list[str], stdin: bytes, limits: Limits) -> SandboxRun:
        """Run `command` instead of the harness, in a container of its own with the same hardening,
        `stdin` as its input: for trusted-side programs over untrusted content (an uploaded exercise
        bundle's validation, grader/exercise_import.py)."""
        image_id = self.image_id()
        t0 = time.monotonic()
        started = self._start(limits, command=command)
        timings = {"warm_container": 0.0, "container_start_s": time.monotonic() - t0}
        try:
            return self._run_in(started, stdin, limits, timings, image_id, None, None)
        except ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Docker engine error: {exc}") from None
        finally:
            _remove_quietly(started.container)

    def _run_in(self, started: Started, job: bytes, limits: Limits, timings: dict, image_id: str, on_output,
                cancel) -> SandboxRun:
        container, sock = started.container, started.sock
        run_started = time.monotonic()
        deadline = run_started + limits.wall_time_s
        sock.settimeout(limits.wall_time_s)
        try:
            sock.sendall(job)
        except OSError:
            pass  # the process died before reading its job; the exit status tells why
        sock.settimeout(None)
        reader = DockerStreamReader(sock, limits.output_mb * 1024 * 1024, STDERR_CAP)
        outcome = reader.read_until(deadline, on_output=on_output, cancel=cancel)
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
        timings["run_s"] = time.monotonic() - run_started
        return SandboxRun(
            stdout=bytes(reader.stdout.data), stderr=bytes(reader.stderr.data),
            exit_code=state.get("StatusCode"), timed_out=outcome == "timeout",
            oom_killed=bool(run_state.get("OOMKilled")), output_overflow=outcome == "overflow",
            cancelled=outcome == "cancelled", image=image_id, device="cuda" if limits.gpu else "cpu", timings=timings)


def _remove_quietly(container) -> None:
    try:
        container.remove(force=True)
    except ENGINE_ERRORS:
        pass
