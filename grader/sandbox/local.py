"""A trusted subprocess runner: the same harness, no isolation.

For the instructor's own reference and known-wrong solutions and for tests of
the judge. Never for student code: the CLI's `grade` always uses Docker.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from ..harness.training import PATH_MAP_ENV
from ..spec import REPO_ROOT, Limits
from . import Sandbox, SandboxRun


class TrustedSubprocessRunner(Sandbox):
    """Mounts become a path map ({container path: host path}) the harness applies to the job's paths."""

    name = "subprocess"

    def run(self, job: bytes, limits: Limits, *, mounts: dict[str, str] | None = None, on_output=None,
            cancel=None) -> SandboxRun:
        """`on_output` and `cancel` are accepted and ignored: this runner is for trusted code in tests."""
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="dgm-trusted-") as scratch:
            path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
            env = {**os.environ, "DGM_SCRATCH": scratch, "PYTHONPATH": path, "OMP_NUM_THREADS": "1",
                   PATH_MAP_ENV: json.dumps({target: str(source) for source, target in (mounts or {}).items()})}
            try:
                proc = subprocess.run([sys.executable, "-m", "grader.harness"], input=job, capture_output=True,
                                      env=env, timeout=limits.wall_time_s, cwd=scratch)
            except subprocess.TimeoutExpired as exc:
                return SandboxRun(stdout=exc.stdout or b"", stderr=exc.stderr or b"", timed_out=True,
                                  image="trusted-subprocess", timings={"run_s": time.monotonic() - t0})
        return SandboxRun(stdout=proc.stdout, stderr=proc.stderr[-65536:], exit_code=proc.returncode,
                          image="trusted-subprocess", timings={"run_s": time.monotonic() - t0})
