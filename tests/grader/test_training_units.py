"""The pieces of training grading that need no sandbox: the [training] table, the
harness's budget and checkpoint, the judge's reading of untrusted training frames,
the training checks, and the result. Fast: no Docker, no torch import in a child."""
from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load, save

from grader.checks import CheckFailure
from grader.harness import training as harness
from grader.metrics.leaderboard import GeneratedScore
from grader.result import Result
from grader.sandbox.docker_sandbox import container_config
from grader.spec import Limits, SpecError, load_exercise
from grader.training import sample_seed, train_limits
from grader.training_checks import LossDecreases, NotMemorised, SamplesValid, TrainingCompleted
from grader.training_outputs import TrainingOutcome, TrainingRun, read_checkpoint, read_samples, read_training

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def exercise_copy(tmp_path):
    """A copy of the toy-scaffold fixture whose exercise.toml a test may edit, beside the exercise it extends."""
    shutil.copytree(FIXTURES / "toy-scaffold", tmp_path / "toy")
    (tmp_path / "vae-reparam").symlink_to(FIXTURES / "vae-reparam")
    return tmp_path / "toy"


def edit_toml(folder: Path, old: str, new: str) -> None:
    toml = folder / "exercise.toml"
    assert old in toml.read_text()
    toml.write_text(toml.read_text().replace(old, new))


# --- the [training] table -------------------------------------------------------------

def test_the_training_table_is_parsed(monkeypatch):
    exercise = load_exercise("toy-scaffold", root=FIXTURES)
    training = exercise.training
    assert training.program == FIXTURES / "toy-scaffold" / "scaffold.py" and training.dataset == "fashion-mnist"
    assert training.support == ("tests/grader/fixtures/toy_support/pixels.py",)
    assert training.checkpoint_mb == 1 and training.sampler == {"temperature": 1.0}
    assert training.program_source()["module"] == "scaffold"
    assert "def to_uint8" in training.support_sources()["tests/grader/fixtures/toy_support/pixels.py"]
    assert training.profile("tiny").n_samples == 100 and training.profile("tiny").device == "cpu"
    assert training.options(training.profile("tiny")) == {"temperature": 0.9, "lr": 0.05}  # the profile's win
    assert training.options(training.profile("gpu")) == {"temperature": 1.0}
    assert training.profile("gpu").name == "gpu" and training.profile("gpu").device == "cuda"
    with pytest.raises(SpecError, match="no training profile 'cpu'"):  # the default, which this fixture lacks
        training.profile()
    assert load_exercise("vae-reparam").training is None


def test_the_gpu_profile_requests_a_gpu_and_limits_follow_the_profile():
    training = load_exercise("toy-scaffold", root=FIXTURES).training
    limits = Limits(output_mb=2)
    tiny, gpu = train_limits(limits, training, training.profile("tiny")), train_limits(limits, training,
                                                                                       training.profile("gpu"))
    assert tiny.gpu is False and gpu.gpu is True
    assert tiny.wall_time_s > training.profile("tiny").train_time_s and tiny.output_mb >= training.checkpoint_mb + 4


def test_shipping_a_file_that_defines_a_student_function_is_refused(exercise_copy):
    edit_toml(exercise_copy, 'support = ["tests/grader/fixtures/toy_support/pixels.py"]',
              'support = ["exercises/vae-reparam/solution.py"]')
    with pytest.raises(SpecError, match=r"defines \['reparameterize'\], which the student writes"):
        load_exercise("toy", root=exercise_copy.parent)


@pytest.mark.parametrize("support", ["/etc/hostname", "../../../etc/hostname", "README.md", "no/such/file.py"])
def test_support_outside_the_repository_or_not_python_is_refused(exercise_copy, support):
    edit_toml(exercise_copy, '"tests/grader/fixtures/toy_support/pixels.py"', json.dumps(support))
    with pytest.raises(SpecError, match="support"):
        load_exercise("toy", root=exercise_copy.parent)


def test_a_program_that_defines_a_student_function_or_lies_outside_the_exercise_is_refused(exercise_copy):
    (exercise_copy / "scaffold.py").write_text("if True:\n    from solution import reparameterize as reparameterize\n")
    with pytest.raises(SpecError, match="reparameterize"):
        load_exercise("toy", root=exercise_copy.parent)
    edit_toml(exercise_copy, 'program = "scaffold.py"', 'program = "../../scaffold.py"')
    with pytest.raises(SpecError, match="inside"):
        load_exercise("toy", root=exercise_copy.parent)


@pytest.mark.parametrize("binding", ["reparameterize = None", "class reparameterize: pass",
                                     "try:\n    import os as reparameterize\nexcept ImportError:\n    pass",
                                     "for reparameterize in []: pass", "a, (b, reparameterize) = 1, (2, 3)",
                                     "class Model:\n    def reparameterize(self, mu, logvar): pass"])
def test_module_level_bindings_and_defs_at_any_depth_count(exercise_copy, binding):
    (exercise_copy / "scaffold.py").write_text(binding + "\n")
    with pytest.raises(SpecError, match="reparameterize"):
        load_exercise("toy", root=exercise_copy.parent)


def test_attributes_and_parameters_of_the_same_name_ship_no_code(exercise_copy):
    (exercise_copy / "scaffold.py").write_text(
        "class Model:\n    def __init__(self, reparameterize):\n        self.reparameterize = reparameterize\n")
    assert load_exercise("toy", root=exercise_copy.parent).training.program.name == "scaffold.py"


def test_the_version_covers_the_program(exercise_copy):
    before = load_exercise("toy", root=exercise_copy.parent)
    assert (Path(__file__).parents[2] / before.training.support[0]) in before.training.files()
    with (exercise_copy / "scaffold.py").open("a") as f:
        f.write("\n# changed\n")
    assert load_exercise("toy", root=exercise_copy.parent).version != before.version


def test_an_extending_exercise_has_its_cores_checks_first_then_its_own():
    core = load_exercise("vae-reparam")
    toy = load_exercise("toy-scaffold", root=FIXTURES)
    assert [(c.name, c.points) for c in toy.checks[:len(core.checks)]] == [(c.name, c.points) for c in core.checks]
    assert [c.name for c in toy.checks[len(core.checks):]] == ["trains", "loss_decreases", "samples_valid",
                                                                "not_memorised"]


def test_the_sample_seed_is_the_judges_and_reproducible():
    assert sample_seed(1) == sample_seed(1) != sample_seed(2)
    assert 0 <= sample_seed(20261122) < 2**31 and sample_seed(20261122) != 20261122


# --- the harness's side ---------------------------------------------------------------

def budget(seconds: float = 100.0, steps: int = 5) -> harness.Budget:
    return harness.Budget({"steps": steps, "batch_size": 8, "seed": 1, "device": "cpu", "options": {"k": 1}},
                          seconds)


def test_the_budget_stops_at_the_step_budget_or_when_time_runs_low():
    b = budget(steps=3)
    assert [b.should_stop(s) for s in range(4)] == [False, False, False, True]
    assert b.steps_done == 3 and b.options == {"k": 1}
    late = budget(seconds=0.05)
    time.sleep(0.05)
    assert late.should_stop(0) and late.time_left() < 0


def test_the_log_is_downsampled_evenly_and_takes_numbers_only():
    b = budget()
    for step in range(5000):
        b.log(step, loss=torch.tensor(1.0 / (step + 1)), lr=0.1)
    report = b.report()
    assert len(report["rows"]) == harness.SENT_LOG_ROWS and report["logged"] == 5000 and report["steps"] == 5000
    assert report["rows"][0]["step"] == 0 and report["rows"][-1]["step"] == 4999
    assert report["rows"][0] == {"step": 0, "loss": 1.0, "lr": 0.1}
    with pytest.raises(TypeError, match="needs a number"):
        b.log(1, loss=torch.ones(3))
    with pytest.raises(ValueError, match="at most 16 values per row"):
        b.log(1, **{f"k{i}": 0.0 for i in range(17)})


def test_the_checkpoint_is_plain_safetensors_under_the_cap():
    weight = torch.arange(6.0).reshape(2, 3)
    blob = harness.checkpoint_blob({"w": weight, "w_view": weight[0], "t": weight.t()}, cap=1000)
    state = load(blob)
    assert torch.equal(state["w"], weight) and torch.equal(state["t"], weight.t()) and state["t"].is_contiguous()
    with pytest.raises(harness.CheckpointError, match="0.0 MB, over the limit of 2e-05 MB"):
        harness.checkpoint_blob({"w": torch.zeros(6)}, cap=20)
    with pytest.raises(harness.CheckpointError, match="dict of str -> torch.Tensor, got list"):
        harness.checkpoint_blob([weight], cap=1000)
    with pytest.raises(harness.CheckpointError, match="'n' is a int"):
        harness.checkpoint_blob({"n": 3}, cap=1000)


def test_support_files_become_importable_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    harness.install_support({"pkg_dgm_test/sub/mod.py": "VALUE = 7\n"}, str(tmp_path))
    assert (tmp_path / "support" / "pkg_dgm_test" / "__init__.py").is_file()
    assert importlib.import_module("pkg_dgm_test.sub.mod").VALUE == 7
    for name in ("pkg_dgm_test.sub.mod", "pkg_dgm_test.sub", "pkg_dgm_test"):
        del sys.modules[name]
    with pytest.raises(ValueError, match="bad support path"):
        harness.install_support({"../escape.py": ""}, str(tmp_path))


def test_the_trusted_runner_maps_container_paths_to_host_paths(monkeypatch):
    monkeypatch.setenv(harness.PATH_MAP_ENV, json.dumps({"/data": "/host/training/fashion"}))
    assert harness.host_path("/data/train.safetensors") == "/host/training/fashion/train.safetensors"
    assert harness.host_path("/database") == "/database"


def test_mounts_are_read_only_binds():
    config = container_config("img", Limits(), labels={}, mounts={"/host/data": "/data"})
    (mount,) = config["mounts"]
    assert mount["Target"] == "/data" and mount["Source"] == "/host/data"
    assert mount["Type"] == "bind" and mount["ReadOnly"] is True
    assert "mounts" not in container_config("img", Limits(), labels={})


@pytest.mark.docker
def test_a_run_with_mounts_never_takes_a_warm_container(docker_sandbox, monkeypatch):
    from grader.sandbox import SandboxUnavailable
    from grader.sandbox.docker_sandbox import DockerSandbox

    pool = DockerSandbox(docker_sandbox.image, docker_sandbox.client, warm=1)
    started_with = []

    def no_warm(limits):
        raise AssertionError("a warm container has no mounts")

    def start(limits, mounts=None):
        started_with.append(mounts)
        raise SandboxUnavailable("stop here")

    monkeypatch.setattr(pool, "_take_warm", no_warm)
    monkeypatch.setattr(pool, "_start", start)
    with pytest.raises(SandboxUnavailable):
        pool.run(b"", Limits(), mounts={"/host/data": "/data"})
    assert started_with == [{"/host/data": "/data"}]


# --- the judge's side: untrusted frames -------------------------------------------------

def profile():
    return load_exercise("toy-open", root=FIXTURES).training.profile("tiny")


def test_the_log_frame_is_capped_and_coerced():
    outcome = TrainingOutcome(profile())
    rows = [{"step": i, "loss": 1.0 / (i + 1), **({"extra": "text"} if i == 3 else {})} for i in range(1500)]
    rows += ["junk", {"no_step": 1}]
    read_training({"rows": ["junk", {"step": "x"}, {"step": math.inf}, *rows], "logged": 1500, "steps": "many",
                   "seconds": math.nan}, outcome)
    assert len(outcome.log["step"]) == 997 and outcome.log["loss"][0] == 1.0  # of the first 1000 rows, 3 are junk
    assert outcome.log["step"][:2] == [0, 1] and outcome.log["extra"][3] is None
    assert outcome.steps_done == 0 and outcome.train_seconds is None and outcome.logged_rows == 1500
    outcome.log["loss"][5] = math.nan
    assert outcome.block()["loss"]["loss"][5] is None  # strict JSON
    many = TrainingOutcome(profile())
    read_training({"rows": [{"step": 0, **{f"k{i}": 1.0 for i in range(40)}}], "steps": math.inf, "logged": -1}, many)
    assert len(many.log) == 1 + 16 and many.steps_done == 0 and many.logged_rows == 0


def test_the_checkpoint_is_capped_and_parsed_not_unpickled():
    good = save({"w": torch.ones(3)})
    checkpoint, problem = read_checkpoint(good, cap=10_000)
    assert problem == "" and torch.equal(load(checkpoint)["w"], torch.ones(3))
    assert read_checkpoint(good, cap=10)[1].startswith("the checkpoint is 0.0 MB, over the limit")
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buffer)  # a pickle: refused, never loaded
    assert read_checkpoint(buffer.getvalue(), cap=10_000) == (None, "the checkpoint that came back is not a "
                                                                    "readable safetensors file")


def samples_frame(t: torch.Tensor, *, dtype: str | None = None, shape=None) -> tuple[dict, bytes]:
    info = {"tensor": "samples/0", "dtype": dtype or str(t.dtype).removeprefix("torch."),
            "shape": list(shape or t.shape), "device": "cpu", "requires_grad": False}
    return {"value": info}, save({"samples/0": t})


@pytest.mark.parametrize("tensor, message", [
    (torch.zeros(4, 28, 28), "returned a float32 tensor of shape (4, 28, 28)"),
    (torch.zeros(4, 784, dtype=torch.uint8), "must have shape (N, 28, 28) or (N, 1, 28, 28), got (4, 784)"),
    (torch.zeros(3, 1, 28, 28, dtype=torch.uint8), "expected exactly 4 samples, got 3"),
])
def test_samples_of_the_wrong_dtype_shape_or_count_are_refused(tensor, message):
    samples, problem = read_samples(*samples_frame(tensor), n=4, image_shape=(28, 28))
    assert samples is None and message in problem and "uint8 tensor of shape (4, 28, 28)" in problem


def test_samples_whose_header_lies_are_judged_by_their_data():
    payload, blob = samples_frame(torch.zeros(4, 28, 28, dtype=torch.float16), dtype="uint8")
    samples, problem = read_samples(payload, blob, n=4, image_shape=(28, 28))
    assert samples is None and "uint8" in problem
    payload, _ = samples_frame(torch.zeros(4, 28, 28, dtype=torch.uint8))
    assert read_samples(payload, b"garbage", n=4, image_shape=(28, 28))[0] is None
    assert "returned `None`" in read_samples({"value": {"none": True}}, b"", n=4, image_shape=(28, 28))[1]
    good, _ = read_samples(*samples_frame(torch.full((4, 1, 28, 28), 7, dtype=torch.uint8)), n=4,
                           image_shape=(28, 28))
    assert good.shape == (4, 28, 28) and good.dtype == np.uint8


# --- the training checks ----------------------------------------------------------------

def outcome_with(**fields) -> TrainingRun:
    return TrainingRun(training=TrainingOutcome(profile(), **fields))


def test_trains_needs_a_checkpoint_and_finite_losses():
    assert "3 steps" in TrainingCompleted().judge(outcome_with(checkpoint_bytes=10, steps_done=3), None)
    with pytest.raises(CheckFailure, match="Training did not complete: the time limit"):
        TrainingCompleted().judge(outcome_with(train_failure="The time limit of 9 s ran out while training."), None)
    log = {"step": [0.0, 1.0], "loss": [1.0, math.inf], "lr": [math.nan, 0.1]}
    with pytest.raises(CheckFailure, match="`loss` is not finite \\(first at step 1\\)"):
        TrainingCompleted().judge(outcome_with(checkpoint_bytes=10, log=log), None)


def test_loss_decreases_compares_the_first_and_last_fifth():
    falling = {"step": [float(i) for i in range(10)], "g_loss": [10.0 - i for i in range(10)],
               "d_loss": [1.0] * 10}
    assert LossDecreases().judge(outcome_with(log=falling), None) == "`g_loss`: 9.5 -> 1.5."
    with pytest.raises(CheckFailure, match="`d_loss` did not go down"):
        LossDecreases("d_loss").judge(outcome_with(log=falling), None)
    with pytest.raises(CheckFailure, match="Only 2 value"):
        LossDecreases().judge(outcome_with(log={"step": [0.0, 1.0], "loss": [2.0, 1.0]}), None)
    with pytest.raises(CheckFailure, match="did not go down"):
        LossDecreases().judge(outcome_with(log={"step": [0.0] * 5, "loss": [math.nan] * 5}), None)
    with pytest.raises(CheckFailure, match="No loss"):
        LossDecreases().judge(outcome_with(log={"step": [0.0], "lr": [0.1]}), None)
    assert LossDecreases("d_loss", name="critic").name == "critic"


def test_samples_valid_refuses_identical_samples():
    same = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(CheckFailure, match="All 4 samples are the same image"):
        SamplesValid().judge(outcome_with(samples=same), None)
    different = same.copy()
    different[1, 0, 0] = 1
    assert SamplesValid().judge(outcome_with(samples=different), None) == "4 samples of 28x28."
    with pytest.raises(CheckFailure, match="wrong dtype"):
        SamplesValid().judge(outcome_with(samples_problem="wrong dtype"), None)


def test_not_memorised_follows_the_memorisation_share():
    score = GeneratedScore("FID (Fashion-MNIST features)", 1.0, 0.0, 0.0, 4, 0.5, True)
    memorisation = {"share": 0.5, "flagged": True, "allowed_share": 0.05,
                    "thresholds": {"pixel": 1.43, "centred": 0.093}}
    with pytest.raises(CheckFailure, match="copies of dataset images: 50.0% of your samples"):
        NotMemorised().judge(outcome_with(score=score, memorisation=memorisation), None)
    fine = {**memorisation, "share": 0.0, "flagged": False}
    assert "0.0%" in NotMemorised().judge(outcome_with(score=dataclasses.replace(score, flagged=False),
                                                       memorisation=fine), None)
    with pytest.raises(CheckFailure, match="no samples to compare"):
        NotMemorised().judge(outcome_with(), None)


# --- the result ---------------------------------------------------------------------------

def test_a_result_round_trips_and_renders_its_training_block():
    training = {"profile": "tiny", "device": "cpu", "steps": 60, "steps_done": 42, "train_seconds": 3.0,
                "sample_seconds": 1.0, "n_samples": 100, "fid": 123.4, "fid_label": "FID (Fashion-MNIST features)",
                "kid": 0.1, "kid_std": 0.01,
                "memorisation": {"share": 0.0, "flagged": False, "allowed_share": 0.05,
                                 "thresholds": {"pixel": 1.43, "centred": 0.093}}}
    result = Result(status="graded", score=1, max_score=1, execution_time=1.0, training=training)
    assert Result.from_dict(json.loads(result.to_json())).training == training
    text = result.render_text()
    assert "42 of 60 steps" in text and "FID (Fashion-MNIST features): 123.40" in text and "KID: 0.1000" in text
    assert "Memorisation: 0.0%" in text
    assert Result(status="graded", score=1, max_score=1, execution_time=1.0).to_dict()["training"] == {}
