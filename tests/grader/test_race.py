"""The sampler race's parts that need no sandbox: steps-to-target, the [training.race] table, the pinned
weights, and the public program's timesteps and settings."""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
import shutil
import sys
import types

import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from grader.race import STATE_PREFIX, job_tensors, race_weights, steps_to_target
from grader.spec import SpecError, load_exercise
from reference_models import race_ddpm

RACE_PROGRAM = load_exercise("sampler-race").training.program


def test_steps_interpolate_in_log_steps_and_log_fid_between_the_crossing_rungs():
    steps = steps_to_target([1, 2, 4, 8], [900.0, 600.0, 300.0, 150.0], 400.0)
    share = (math.log(600) - math.log(400)) / (math.log(600) - math.log(300))
    assert steps == pytest.approx(2 * 2 ** share)
    assert 2 < steps < 4


def test_a_rung_exactly_at_the_target_scores_its_own_steps():
    assert steps_to_target([1, 2, 4], [900.0, 400.0, 100.0], 400.0) == pytest.approx(2.0)


def test_the_first_rung_below_the_target_scores_its_steps_and_none_reached_scores_nothing():
    assert steps_to_target([2, 4], [100.0, 50.0], 400.0) == 2.0
    assert steps_to_target([1, 2, 4], [900.0, 800.0, 700.0], 400.0) is None


def test_a_rung_without_a_finite_fid_does_not_count_and_is_not_interpolated_from():
    assert steps_to_target([1, 2, 4], [None, 300.0, 100.0], 400.0) == 2.0
    assert steps_to_target([1, 2, 4], [900.0, None, 100.0], 400.0) == 4.0


def test_the_weights_are_refused_when_they_do_not_match_their_card(tmp_path):
    exercise = load_exercise("sampler-race")
    assert race_weights(exercise.training) == race_ddpm.WEIGHTS.read_bytes()
    weights = tmp_path / "reference_models" / "weights"
    weights.mkdir(parents=True)
    shutil.copy(race_ddpm.CARD, weights / race_ddpm.CARD.name)
    blob = bytearray(race_ddpm.WEIGHTS.read_bytes())
    blob[-1] ^= 1
    (weights / race_ddpm.WEIGHTS.name).write_bytes(bytes(blob))
    moved = dataclasses.replace(exercise.training, repo_root=tmp_path)
    with pytest.raises(OSError, match="SHA-256"):
        race_weights(moved)


def test_the_job_carries_the_weights_beside_the_probes_tensors_under_a_prefix():
    probes = save_tensors({"t0": torch.zeros(2)})
    tensors = load_tensors(job_tensors(probes, race_ddpm.WEIGHTS.read_bytes()))
    assert "t0" in tensors and STATE_PREFIX + "alphas_cumprod" in tensors
    assert all(k == "t0" or k.startswith(STATE_PREFIX) for k in tensors)


def _exercise_copy(tmp_path, edit):
    root = tmp_path / "exercises"
    for slug in ("ddpm-sampler", "sampler-race"):
        shutil.copytree(load_exercise(slug).path, root / slug)
    toml = root / "sampler-race" / "exercise.toml"
    toml.write_text(edit(toml.read_text()))
    return root


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: re.sub(r"rungs = \[[0-9, ]+\]", "rungs = [4, 2]", s, count=1), "increasing positive integers"),
    (lambda s: re.sub(r"rungs = \[[0-9, ]+\]", "rungs = [0, 2]", s, count=1), "increasing positive integers"),
    (lambda s: re.sub(r"target_fid = [0-9.]+", "target_fid = -1", s, count=1), "target_fid"),
    (lambda s: s.replace("race_ddpm.safetensors", "missing.safetensors"), "needs the file"),
])
def test_a_race_table_with_a_bad_ladder_target_or_weights_is_refused(tmp_path, edit, message):
    root = _exercise_copy(tmp_path, edit)
    with pytest.raises(SpecError, match=message):
        load_exercise("sampler-race", root)


@pytest.fixture
def program(monkeypatch):
    """race.py imported beside a stand-in `solution` module whose RACE the test sets."""
    solution = types.ModuleType("solution")
    monkeypatch.setitem(sys.modules, "solution", solution)
    spec = importlib.util.spec_from_file_location("race_program", RACE_PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, solution


@pytest.mark.parametrize("spacing", ["uniform", "quadratic"])
@pytest.mark.parametrize("steps", [1, 2, 4, 8, 16, 50, 200])
def test_every_spacing_starts_from_pure_noise_and_visits_distinct_increasing_timesteps(program, steps, spacing):
    race, _ = program
    ts = race.timesteps(steps, 1000, spacing)
    assert ts[-1] == 999 and ts == sorted(set(ts)) and ts[0] >= 0
    assert len(ts) <= steps and (spacing == "quadratic" or len(ts) == steps)


def test_quadratic_spacing_is_denser_at_low_noise(program):
    race, _ = program
    uniform, quadratic = race.timesteps(8, 1000, "uniform"), race.timesteps(8, 1000, "quadratic")
    assert quadratic[0] < uniform[0] and sum(t < 500 for t in quadratic) > sum(t < 500 for t in uniform)


def test_settings_default_and_take_the_submissions_race(program):
    race, solution = program
    assert race.settings() == {"guidance_scale": 1.0, "eta": 0.0, "spacing": "uniform"}
    solution.RACE = {"guidance_scale": 2, "spacing": "quadratic"}
    assert race.settings() == {"guidance_scale": 2.0, "eta": 0.0, "spacing": "quadratic"}


@pytest.mark.parametrize("bad", [{"guidance_scale": 11}, {"guidance_scale": True}, {"eta": -0.1}, {"eta": "1"},
                                 {"spacing": "cosine"}, {"steps": 3}, ["guidance_scale"]])
def test_settings_outside_the_rules_are_refused_with_the_rule(program, bad):
    race, solution = program
    solution.RACE = bad
    with pytest.raises(ValueError, match="RACE"):
        race.settings()


def test_a_ddim_step_that_calls_the_model_twice_is_stopped(program):
    race, solution = program
    solution.classifier_free_guidance = lambda c, u, s: u + s * (c - u)

    def ddim_step(model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
        model(xt, t)
        return model(xt, t) * 0 + xt

    solution.ddim_step = ddim_step
    net = race_ddpm.load_unet()
    abar = load_file(str(race_ddpm.WEIGHTS))["alphas_cumprod"]
    o = {**race.DEFAULTS, "sample_batch": 4}
    with pytest.raises(RuntimeError, match="called model 2 times"):
        race._race_rung(net, abar, 2, 4, torch.Generator().manual_seed(0), o, race.settings(), "cpu")


def test_copies_in_the_rung_before_the_scored_one_are_caught_since_they_lower_the_interpolated_steps(monkeypatch):
    """The steps interpolate from the rung before the scored one: training images there would pull the
    steps down, so that rung is checked for memorisation too and the worse of the two is reported."""
    import numpy as np

    from grader import race
    from grader.training_outputs import TrainingOutcome
    from reference_models.datasets import load_dataset

    exercise = load_exercise("sampler-race")
    training = exercise.training
    profile = dataclasses.replace(training.profile("tiny"), n_samples=100)
    n = profile.n_samples
    copies = load_dataset("fashion-mnist", "train")[0][:n]
    noise = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    rungs = training.rungs(profile)
    images = np.concatenate([noise, copies, noise, noise][:len(rungs)])
    target = float(training.options(profile)["target_fid"])
    monkeypatch.setattr(race, "rung_fids", lambda *a: [2 * target, 1.5 * target, 0.5 * target, 0.4 * target])
    outcome = TrainingOutcome(profile, metric=training.metric)
    outcome.samples = images
    race.score_race(outcome, training, profile)
    assert outcome.race.scored_rung == rungs[2] and outcome.race.steps < rungs[2]
    assert outcome.memorisation["flagged"] and outcome.memorisation["share"] > 0.9  # the rung before: copies
    assert (outcome.samples == noise).all()  # the grid still shows the scored rung


def test_a_ddim_step_that_changes_the_dtype_is_stopped_with_the_rule(program):
    race, solution = program
    solution.classifier_free_guidance = lambda c, u, s: u + s * (c - u)
    solution.ddim_step = lambda model, xt, t, t_prev, alphas_cumprod, eta=0.0, noise=None: \
        model(xt, t).to(alphas_cumprod.dtype)
    abar = load_file(str(race_ddpm.WEIGHTS))["alphas_cumprod"]
    o = {**race.DEFAULTS, "sample_batch": 4}
    with pytest.raises(ValueError, match="torch.float64 .* must keep x_t's shape and dtype"):
        race._race_rung(race_ddpm.load_unet(), abar, 2, 4, torch.Generator().manual_seed(0), o, race.settings(), "cpu")
