"""Where the harness runs: the Docker sandbox for student code, and a trusted
subprocess runner for the instructor's own solutions and the judge's tests."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..spec import Limits


class SandboxUnavailable(RuntimeError):
    """The sandbox could not run at all (Docker down, image missing): not the student's fault."""


@dataclass
class SandboxRun:
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    output_overflow: bool = False
    cancelled: bool = False
    image: str = ""
    device: str = "cpu"
    timings: dict = field(default_factory=dict)


OutputCallback = Callable[[bytearray], None]


class Sandbox:
    name = "abstract"

    def run(self, job: bytes, limits: Limits, *, mounts: dict[str, str] | None = None,
            on_output: OutputCallback | None = None, cancel: threading.Event | None = None) -> SandboxRun:
        """Run the harness on `job`. `mounts` maps host paths to container paths, always read-only.
        `on_output` is called with the stdout read so far, about once a second while it runs;
        setting `cancel` stops the run and raises grader.progress.Cancelled (where supported)."""
        raise NotImplementedError
