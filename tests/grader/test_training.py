"""Training exercises through the real Docker sandbox, on the toy fixtures in
fixtures/: a correct run, refused checkpoints, a hanging train(), bad samples,
what each sandbox can see, and a generator that returns training images.
Budgets are tiny: the whole file takes about a minute on 2 cores."""
from __future__ import annotations

import base64
import io
import json
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from grader.baselines import compute_baseline
from grader.judge import grade
from grader.sandbox.local import TrustedSubprocessRunner
from grader.spec import load_exercise
from grader.validate import validate

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def scaffold():
    return load_exercise("toy-scaffold", root=FIXTURES)


@pytest.fixture(scope="module")
def open_exercise():
    return load_exercise("toy-open", root=FIXTURES)


def grade_source(exercise, source: str, sandbox):
    return grade(exercise, "solution.py", textwrap.dedent(source).encode(), sandbox=sandbox, profile="tiny")


def failed(result) -> set[str]:
    return {t.name for t in result.tests if t.status != "passed"}


@pytest.mark.docker
def test_a_correct_run_is_graded_with_leaderboard_entries_and_a_training_block(scaffold, clean_docker):
    result = grade(scaffold, "solution.py", scaffold.solution().source().encode(), sandbox=clean_docker, profile="tiny")
    assert result.status == "graded" and result.score == result.max_score, result.render_text()
    t = result.training
    assert (t["profile"], t["device"], t["steps"], t["steps_done"], t["n_samples"]) == ("tiny", "cpu", 60, 60, 100)
    assert t["fid_label"] == "FID (Fashion-MNIST features)" and t["fid"] > 0 and t["kid_std"] >= 0
    assert t["memorisation"]["flagged"] is False
    assert t["memorisation"]["thresholds"]["pixel"] > 0 and t["memorisation"]["thresholds"]["centred"] > 0
    assert len(t["loss"]["step"]) == len(t["loss"]["loss"]) == 60
    assert result.leaderboard == [{"name": t["fid_label"], "value": t["fid"], "order": "asc"},
                                  {"name": "KID", "value": t["kid"], "order": "asc"}]
    grid = Image.open(io.BytesIO(base64.b64decode(t["sample_grid_png"])))
    assert grid.size == (8 * 30 + 2, 8 * 30 + 2) and grid.mode == "L"
    p = result.provenance
    assert p["profile"] == "tiny" and p["device"] == "cpu" and p["image"].startswith("sha256:")
    assert p["sample_seed"] != p["seed"] and p["exercise_version"] == scaffold.version
    assert p["sandbox_versions"]["torch"].startswith("2.")
    json.dumps(result.to_dict(), allow_nan=False)  # strict JSON for the platform's database
    assert "KID" in result.render_text() and "60 of 60 steps" in result.render_text()


@pytest.mark.docker
def test_a_checkpoint_over_the_cap_is_refused(open_exercise, clean_docker):
    containers_before = len(clean_docker.container_ids)
    result = grade_source(open_exercise, """
        import torch

        def train(images, budget):
            return {"weights": torch.zeros(2**19)}  # 2 MB; the exercise allows 1 MB

        def sample(state, n, generator, budget):
            raise AssertionError("never sampled")
    """, clean_docker)
    assert result.status == "error"
    assert "checkpoint is 2.1 MB, over the limit of 1 MB" in result.plain_output()
    assert failed(result) == {"trains", "loss_decreases", "samples_valid", "not_memorised"}
    assert "over the limit of 1 MB" in result.tests[0].plain_output()
    assert result.leaderboard == [] and result.training["checkpoint_bytes"] is None
    assert len(clean_docker.container_ids) == containers_before + 1  # no sampling sandbox


@pytest.mark.docker
def test_a_train_that_ignores_its_budget_times_out_while_training(open_exercise, clean_docker, monkeypatch):
    monkeypatch.setattr("grader.training.START_SLACK_S", 6.0)
    started = time.monotonic()
    result = grade_source(open_exercise, """
        import time

        def train(images, budget):
            budget.log(0, loss=1.0)
            time.sleep(3600)

        def sample(state, n, generator, budget):
            raise AssertionError("never sampled")
    """, clean_docker)
    assert time.monotonic() - started < 5 + 6 + 20
    assert result.status == "timeout"
    assert "The time limit of 11 s ran out while training." in result.plain_output()
    trains = next(t for t in result.tests if t.name == "trains")
    assert trains.status == "failed" and "ran out while training" in trains.plain_output()
    assert result.score == 0 and result.leaderboard == []


@pytest.mark.docker
def test_samples_of_the_wrong_dtype_fail_with_a_clear_message(open_exercise, clean_docker):
    result = grade_source(open_exercise, """
        import torch

        def train(images, budget):
            for step in range(10):
                budget.log(step, loss=10.0 - step)
            return {"mean": images[:500].float().mean(0) / 255}

        def sample(state, n, generator, budget):
            return state["mean"] + 0.1 * torch.randn(n, 28, 28, generator=generator)  # float32 in [0, 1]
    """, clean_docker)
    assert result.status == "graded"
    assert failed(result) == {"samples_valid", "not_memorised"}
    message = next(t for t in result.tests if t.name == "samples_valid").plain_output()
    assert "returned a float32 tensor of shape (100, 28, 28)" in message and "uint8" in message
    assert result.leaderboard == [] and "fid" not in result.training


@pytest.mark.docker
def test_the_training_sandbox_sees_the_training_split_read_only_and_the_sampling_sandbox_no_data(
        open_exercise, clean_docker):
    result = grade_source(open_exercise, """
        import os
        import torch

        def _names_anywhere(fragment):
            found = []
            for root, dirs, files in os.walk("/"):
                if root in ("/proc", "/sys"):
                    dirs[:] = []
                found += [os.path.join(root, f) for f in files if fragment in f]
            return found

        def train(images, budget):
            print("DATA", sorted(os.listdir("/data")), tuple(images.shape), images.dtype)
            try:
                open("/data/x", "w")
                print("WRITABLE")
            except OSError as exc:
                print("NOT WRITABLE", type(exc).__name__)
            print("TEST SPLIT", _names_anywhere("t10k"))
            return {"mean": images[:500].float().mean(0)}

        def sample(state, n, generator, budget):
            print("SAMPLING SEES DATA", os.path.exists("/data"), _names_anywhere("train.safetensors"))
            return state["mean"].round().to(torch.uint8).expand(n, 28, 28).clone()
    """, clean_docker)
    assert "DATA ['train.safetensors'] (60000, 28, 28) torch.uint8" in result.plain_output(), result.plain_output()
    assert "NOT WRITABLE OSError" in result.plain_output() and "WRITABLE\n" not in result.plain_output()
    assert "TEST SPLIT []" in result.plain_output()
    assert "SAMPLING SEES DATA False []" in result.plain_output()
    samples_valid = next(t for t in result.tests if t.name == "samples_valid")
    assert "All 100 samples are the same image" in samples_valid.plain_output()


@pytest.mark.docker
def test_a_generator_that_returns_training_images_is_flagged(open_exercise, clean_docker):
    result = grade_source(open_exercise, """
        def train(images, budget):
            for step in range(10):
                budget.log(step, loss=1.0 / (step + 1))
            return {"images": images[:1000].clone()}

        def sample(state, n, generator, budget):
            return state["images"][:n]
    """, clean_docker)
    assert result.status == "graded"
    assert failed(result) == {"not_memorised"}
    memorisation = result.training["memorisation"]
    assert memorisation["flagged"] is True and memorisation["share"] == 1.0
    assert "copies of dataset images" in next(t for t in result.tests if t.name == "not_memorised").plain_output()
    assert [e["name"] for e in result.leaderboard] == ["FID (Fashion-MNIST features)", "KID"]  # kept off by the board


@pytest.mark.slow
def test_the_baseline_is_the_reference_solutions_training_block(open_exercise):
    """Through the trusted subprocess runner (the instructor's own file): /data maps to the host folder."""
    baseline = compute_baseline(open_exercise, "tiny", TrustedSubprocessRunner())
    assert baseline["label"] == "Reference solution" and baseline["exercise_version"] == open_exercise.version
    assert baseline["profile"] == "tiny" and baseline["fid"] > 0 and baseline["memorisation"]["flagged"] is False


@pytest.mark.slow
def test_validate_proves_a_training_exercise(scaffold):
    reports = validate(scaffold, TrustedSubprocessRunner(), "tiny")
    assert [(r.name, r.ok) for r in reports] == [("solution", True), ("wrong/variance_as_std", True)], \
        [r.result.render_text() for r in reports if not r.ok]
