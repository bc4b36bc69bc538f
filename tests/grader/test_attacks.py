"""Hostile submissions through the real Docker sandbox: each ends with the right
status and a message a student understands, within the limit, and leaves no
container or process behind (the `clean_docker` fixture checks)."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from grader.judge import grade
from grader.spec import load_exercise

pytestmark = pytest.mark.docker  # every test here grades in the real sandbox

ATTACKS = Path(__file__).resolve().parent.parent / "attacks"
WALL_S = 20


@pytest.fixture(scope="module")
def exercise():
    ex = load_exercise("vae-reparam")
    limits = dataclasses.replace(ex.limits, wall_time_s=WALL_S, probe_time_s=4, memory_mb=512)
    return dataclasses.replace(ex, limits=limits)


def attack(exercise, sandbox, name: str):
    path = ATTACKS / name
    started = time.monotonic()
    result = grade(exercise, path.name, path.read_bytes(), sandbox=sandbox)
    elapsed = time.monotonic() - started
    assert elapsed < WALL_S + 15, f"{name} took {elapsed:.1f} s"
    return result


def outputs(result) -> str:
    """Everything the result says, the submission's own text (its exceptions, its prints) included."""
    return "\n".join([result.plain_output(), *(t.plain_output() for t in result.tests)])


def test_fork_bomb_is_contained(exercise, clean_docker):
    result = attack(exercise, clean_docker, "fork_bomb.py")
    assert result.status in ("error", "timeout")
    assert result.score == 0
    assert "Resource temporarily unavailable" in outputs(result) or result.status == "timeout"


def test_memory_bomb_hits_memory_limit(exercise, clean_docker):
    result = attack(exercise, clean_docker, "memory_bomb.py")
    assert result.status == "memory_limit"
    assert "memory limit of 512 MB" in outputs(result)
    assert result.score == 0


def test_infinite_loop_times_out_each_call_then_the_run(exercise, clean_docker):
    result = attack(exercise, clean_docker, "infinite_loop.py")
    assert result.status == "timeout"
    assert result.score == 0
    assert "did not return within 4 s" in outputs(result)


def test_infinite_loop_at_import_is_an_import_error(exercise, clean_docker):
    result = attack(exercise, clean_docker, "infinite_loop_at_import.py")
    assert result.status == "error"
    assert "could not be imported" in outputs(result)
    assert "did not return within 4 s" in outputs(result)


def test_sleep_that_ignores_the_alarm_is_killed_from_outside(exercise, clean_docker):
    result = attack(exercise, clean_docker, "sleep_ignoring_alarm.py")
    assert result.status == "timeout"
    assert f"time limit of {WALL_S} s ran out while running `reparameterize(" in outputs(result)


def test_output_flood_is_truncated_and_grading_goes_on(exercise, clean_docker):
    result = attack(exercise, clean_docker, "output_flood.py")
    assert result.status == "graded" and result.score == result.max_score
    assert "Your code printed (truncated)" in outputs(result) and "spam spam" in outputs(result)
    assert len(result.output) < 10_000


def test_endless_output_at_import_times_out_the_import(exercise, clean_docker):
    result = attack(exercise, clean_docker, "endless_output.py")
    assert result.status == "error"
    assert "could not be imported" in outputs(result) and "did not return within 4 s" in outputs(result)


def test_flooding_every_descriptor_is_refused_at_the_first_byte(exercise, clean_docker):
    """The submission's process has no copy of the judge's channel: the garbage it writes to every descriptor
    reaches the supervisor's pipe, which refuses anything that is not the harness's own message."""
    result = attack(exercise, clean_docker, "private_channel_flood.py")
    assert result.status == "error" and result.score == 0
    assert "results the harness did not send" in outputs(result)
    assert all(t.status == "failed" for t in result.tests)


def test_disk_fill_stays_in_the_sandbox(exercise, clean_docker):
    result = attack(exercise, clean_docker, "disk_fill.py")
    assert result.status == "graded"  # every write failed inside the sandbox; grading went on
    assert result.score == result.max_score


def test_background_children_do_not_survive(exercise, clean_docker):
    result = attack(exercise, clean_docker, "background_child.py")
    assert result.status == "graded"
    assert result.score == result.max_score


def test_nothing_of_the_judge_is_readable_inside(exercise, clean_docker):
    result = attack(exercise, clean_docker, "read_outside.py")
    assert result.status == "graded"
    assert "NOTHING []" in outputs(result)
    assert result.score == result.max_score


def test_forged_results_are_ignored(exercise, clean_docker):
    result = attack(exercise, clean_docker, "forged_results.py")
    assert result.status == "error"
    assert result.score == 0
    assert "results the harness did not send" in outputs(result)


def test_monkeypatching_torch_changes_nothing_outside(exercise, clean_docker, tmp_path):
    patched = attack(exercise, clean_docker, "monkeypatch_torch.py")
    plain_file = tmp_path / "plain.py"
    plain_file.write_text("def reparameterize(mu, logvar):\n    return mu\n")
    plain = grade(exercise, "plain.py", plain_file.read_bytes(), sandbox=clean_docker)
    assert patched.status == plain.status == "graded"
    assert [t.status for t in patched.tests] == [t.status for t in plain.tests]
    assert patched.score == plain.score < patched.max_score


def test_exit_at_import_is_reported(exercise, clean_docker):
    result = attack(exercise, clean_docker, "exit_at_import.py")
    assert result.status == "error"
    assert "ended (exit code 0) during your module's import" in outputs(result)
    assert "os._exit()" in outputs(result)


def test_non_utf8_source_gets_a_clear_message(exercise, docker_sandbox):
    result = attack(exercise, docker_sandbox, "non_utf8.py")  # rejected before any container starts
    assert result.status == "error"
    assert "not valid UTF-8" in outputs(result) and "line 2" in outputs(result)
    assert all(t.status == "failed" for t in result.tests)


def test_segfault_names_the_signal(exercise, clean_docker):
    result = attack(exercise, clean_docker, "segfault.py")
    assert result.status == "error"
    assert "SIGSEGV" in outputs(result)


def test_no_network_inside(exercise, clean_docker):
    result = attack(exercise, clean_docker, "network_probe.py")
    assert result.status == "graded"
    assert "NET ['lo'] ConnectionRefusedError" in outputs(result)


def test_sys_exit_in_a_function_fails_that_call_only(exercise, clean_docker):
    result = attack(exercise, clean_docker, "sys_exit_in_function.py")
    assert result.status == "graded"
    assert result.score == 0
    assert "called exit('bye')" in outputs(result)


def test_a_tensor_subclass_cannot_disguise_its_values(exercise, clean_docker, tmp_path):
    disguised = attack(exercise, clean_docker, "hostile_tensor_subclass.py")
    plain_file = tmp_path / "zeros.py"
    plain_file.write_text("import torch\n\ndef reparameterize(mu, logvar):\n    return torch.zeros_like(mu)\n")
    plain = grade(exercise, "zeros.py", plain_file.read_bytes(), sandbox=clean_docker)
    assert disguised.status == "graded"
    assert disguised.score <= plain.score < disguised.max_score


def test_a_huge_return_value_is_refused_not_shipped(exercise, clean_docker):
    result = attack(exercise, clean_docker, "huge_return.py")
    assert result.status == "graded"
    failed = {t.name for t in result.tests if t.status == "failed"}
    assert {"shape_and_dtype", "mean", "gradients"} <= failed
    assert "too large" in outputs(result) or "cannot read" in outputs(result)


def test_frames_written_with_the_right_nonce_are_not_accepted(exercise, clean_docker, monkeypatch):
    """Student code that knows the job's nonce (planted by the test) writes well-formed frames with it for every
    probe, claiming perfect results, to every descriptor it has. It holds no copy of the judge's channel, and
    the supervisor's memory and descriptors are closed to it, so none of them reaches the judge as a frame:
    the pipe to the supervisor refuses them, and the grading ends in an error with no points."""
    import grader.pipeline

    nonce = "f" * 32
    monkeypatch.setattr(grader.pipeline, "new_nonce", lambda: nonce)
    source = (ATTACKS / "forge_with_the_nonce.py").read_text().replace("@@NONCE@@", nonce)
    result = grade(exercise, "forge.py", source.encode(), sandbox=clean_docker)
    assert result.status == "error" and result.score == 0
    assert "results the harness did not send" in outputs(result)
    assert all(t.status == "failed" and t.score == 0 for t in result.tests)
    printed = " ".join(piece["text"] for piece in result.untrusted.values())
    probed = json.loads(printed.split("PROBED ", 1)[1].splitlines()[0])
    assert probed["cmdline"] == "read, no nonce"  # world-readable, and the nonce came on stdin
    assert all(probed[k] == "PermissionError" for k in ("environ", "mem", "fd/0", "fd/1", "fd/1 write")), probed
