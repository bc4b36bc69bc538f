"""read_run's status mapping (grader/pipeline.py): what the sandbox's exit and frames mean for a
grading, from crafted sandbox runs. No Docker."""
from __future__ import annotations

import pytest

from grader.harness.protocol import encode_frame
from grader.pipeline import read_run
from grader.probes import Planner
from grader.sandbox import SandboxRun
from grader.spec import Limits

NONCE = "a" * 32
LIMITS = Limits(wall_time_s=30, memory_mb=512, output_mb=4)


def planner() -> Planner:
    p = Planner(0)
    p.call("p1", "f", p.randn(2))
    return p


def frames(*items: tuple[str, dict]) -> bytes:
    return b"".join(encode_frame(NONCE, kind, payload) for kind, payload in items)


IMPORTED = ("phase", {"phase": "import"})
PROBING = ("phase", {"probe": "p1"})
PROBE = ("probe", {"id": "p1", "calls": [{"ok": True, "returns": [{"int": 1}]}]})
DONE = ("done", {"versions": {"torch": "2"}, "timings": {"import_s": 0.5, "bad": "x"}})


@pytest.mark.parametrize(("stdout", "raw", "status", "words"), [
    (frames(IMPORTED, PROBING, PROBE, DONE), {"exit_code": 0}, "graded", ""),
    (b"", {"exit_code": 1}, "infrastructure_error", "failed to start in the sandbox (exit code 1)"),
    (b"", {"timed_out": True}, "infrastructure_error", "(timed out) before running any of your code"),
    (frames(IMPORTED, PROBING), {"oom_killed": True, "exit_code": 137}, "memory_limit",
     "more than the memory limit of 512 MB while running `f("),
    (frames(IMPORTED), {"timed_out": True}, "timeout", "30 s ran out while running your module's import"),
    (frames(IMPORTED, PROBING), {"output_overflow": True}, "error", "more than 4 MB"),
    (frames(IMPORTED), {"exit_code": 0}, "error", "ended (exit code 0) during your module's import. Do not call"),
    (frames(IMPORTED, PROBING), {"exit_code": 139}, "error", "ended (killed by signal SIGSEGV) during `f("),
    (frames(IMPORTED, ("done", {"import_error": {"type": "SyntaxError", "message": "x"}})), {"exit_code": 0},
     "error", "could not be imported"),
    (frames(IMPORTED, PROBING, PROBE, PROBE, DONE), {"exit_code": 0}, "error", "results the harness did not send"),
    (frames(IMPORTED, ("intrusion", {"reason": "a forged frame"}), DONE), {"exit_code": 0}, "error",
     "results the harness did not send"),
    (frames(IMPORTED, DONE, PROBE), {"exit_code": 0}, "error", "results the harness did not send"),
])
def test_the_status_and_message_follow_from_the_run(stdout, raw, status, words):
    run, got_status, message, extra = read_run(SandboxRun(stdout=stdout, **raw), planner(), NONCE, LIMITS)
    assert got_status == status and words in message, message
    if status == "graded":
        assert run.call("p1").value() == 1 and message == "" and not extra["forged"]
    else:
        assert run.stopped_reason.startswith(message[0].lower())


def test_frames_of_another_nonce_are_not_read():
    stdout = b"".join(encode_frame("b" * 32, kind, payload) for kind, payload in (IMPORTED, PROBING, PROBE, DONE))
    _, status, _, _ = read_run(SandboxRun(stdout=stdout, exit_code=0), planner(), NONCE, LIMITS)
    assert status == "infrastructure_error"


def test_extra_keeps_versions_numeric_timings_the_phase_and_other_frames():
    training = ("training", {"steps": 3})
    stdout = frames(IMPORTED, PROBING, PROBE, ("phase", {"phase": "train"}), training, training, DONE)
    _, status, _, extra = read_run(SandboxRun(stdout=stdout, exit_code=0), planner(), NONCE, LIMITS)
    assert status == "graded" and extra["phase"] == "train"
    assert extra["versions"] == {"torch": "2"} and extra["timings"] == {"sandbox_import_s": 0.5}
    assert extra["frames"]["training"][0] == {"steps": 3}  # the first of each kind
