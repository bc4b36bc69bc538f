"""The sampler race validated through the real pipeline at the tiny profile: one Docker sandbox runs
ddpm-sampler's probes and then the race on the pinned weights, the judge scores every rung's FID on
the trusted side. `validate` races the solution, every right/ and every wrong/ case; the private
board races the stored weights again with another seed against the held-back part."""
from __future__ import annotations

import math

import pytest

from grader.race import race_weights
from grader.resample import resample
from grader.spec import load_exercise
from grader.validate import validate

SLUG = "sampler-race"
PROFILE = "tiny"


def test_the_race_is_complete():
    exercise = load_exercise(SLUG)
    training = exercise.training
    assert training is not None and training.race is not None and training.metric == "steps_to_fid"
    assert {"tiny", "cpu", "gpu"} <= set(training.profiles)
    assert len(exercise.wrong_cases()) >= 8 and exercise.right_cases()
    statement = (exercise.path / "statement.md").read_text()
    for name, profile in training.profiles.items():
        assert f"`{name}`" in statement, f"the statement's budget table lacks the {name} profile"
        assert ", ".join(map(str, training.rungs(profile))) in statement, f"the {name} ladder is not in the statement"
    assert {"samples_valid", "reaches_target", "not_memorised"} <= {c.name for c in exercise.checks}
    assert "trains" not in {c.name for c in exercise.checks}  # nothing is trained


@pytest.mark.docker
def test_validate_passes_at_the_tiny_profile_and_the_private_board_races_again(clean_docker):
    exercise = load_exercise(SLUG)
    reports = {r.name: r for r in validate(exercise, clean_docker, profile=PROFILE)}
    problems = [f"{r.name}: status {r.status}, expected {sorted(r.expected_failures)}, got {sorted(r.actual_failures)}"
                for r in reports.values() if not r.ok]
    assert not problems, "\n".join(problems)
    solution = reports["solution"].result
    assert solution.score == exercise.max_score, solution.render_text()
    t = solution.training
    rungs = exercise.training.rungs(exercise.training.profile(PROFILE))
    assert t["metric"] == "steps_to_fid" and 1 <= t["fid"] <= rungs[-1]
    assert [r["steps"] for r in t["race"]["rungs"]] == rungs and t["kid"] is None and "fid_interval" not in t
    assert [e["name"] for e in solution.leaderboard] == [t["fid_label"]] and "≤ 450" in t["fid_label"]
    assert t["sample_grid_png"] and t["memorisation"]["flagged"] is False
    # x0 without its square roots: the race runs, and no rung comes near the target
    lost = reports["wrong/x0_without_sqrt"].result.training
    assert lost["fid"] is None and min(r["fid"] for r in lost["race"]["rungs"]) > 2 * t["race"]["target_fid"]
    # RACE settings that race faster: fewer steps than the defaults
    assert reports["right/tuned_settings"].result.training["fid"] < t["fid"]

    private = resample(exercise, "solution.py", exercise.solution().source().encode(), race_weights(exercise.training),
                       sandbox=clean_docker, seed=12345, profile=PROFILE)
    assert private["reference_part"] == "private" and private["metric"] == "steps_to_fid"
    assert math.isfinite(private["fid"]) and abs(private["fid"] - t["fid"]) < rungs[-1]
    assert private["race"]["rungs"] != t["race"]["rungs"]  # another seed, another reference part
