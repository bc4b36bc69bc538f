"""The likelihood-board training exercises (flow-train, pixelcnn-train) validated through the real
pipeline at the tiny profile: the Docker training sandbox, then the judge's bits/dim of the test
split on the trusted side. `validate` grades the solution, every right/ and every wrong/ case
(each trains a model: about 3 minutes per exercise on 2 cores); one bug per exercise trains as
usual and must score a clearly worse bits/dim than the solution."""
from __future__ import annotations

import math

import pytest

from grader.spec import load_exercise
from grader.validate import validate

PROFILE = "tiny"
# (exercise, the wrong case whose model trains as usual, the bits/dim it must lose at least): measured at the
# tiny profile over seeds (docs/baselines.md, "What a bug costs"), the gaps are about 0.9 and 1.3 bits/dim
WORSE = {"flow-train": ("log_det_all_dims", 0.4), "pixelcnn-train": ("mask_only_for_type_a", 0.4)}
LABEL = "bits/dim (Fashion-MNIST test)"


@pytest.mark.parametrize("slug", sorted(WORSE))
def test_likelihood_exercise_is_complete(slug):
    exercise = load_exercise(slug)
    training = exercise.training
    assert training is not None and training.likelihood is not None and training.dataset == "fashion-mnist"
    assert {"tiny", "cpu", "gpu"} <= set(training.profiles)
    assert len(exercise.wrong_cases()) >= 6 and exercise.right_cases()
    statement = (exercise.path / "statement.md").read_text()
    for name in training.profiles:
        assert f"`{name}`" in statement, f"the statement's budget table lacks the {name} profile"
    assert {"trains", "loss_decreases", "bits_per_dim"} <= {c.name for c in exercise.checks}
    assert "samples_valid" not in {c.name for c in exercise.checks}  # no sampling sandbox


@pytest.mark.docker
@pytest.mark.parametrize("slug", sorted(WORSE))
def test_validate_passes_at_the_tiny_profile_and_a_hidden_bug_costs_bits(slug, clean_docker):
    exercise = load_exercise(slug)
    reports = {r.name: r for r in validate(exercise, clean_docker, profile=PROFILE)}
    problems = [f"{r.name}: status {r.status}, expected {sorted(r.expected_failures)}, got {sorted(r.actual_failures)}"
                for r in reports.values() if not r.ok]
    assert not problems, "\n".join(problems)
    solution = reports["solution"].result
    assert solution.score == exercise.max_score, solution.render_text()
    bits = solution.training["fid"]
    assert solution.training["metric"] == "bits_per_dim" and math.isfinite(bits) and 2.0 < bits < 8.0
    assert [e["name"] for e in solution.leaderboard] == [LABEL]
    # the preview samples are for the page: no FID, KID or memorisation verdict is computed from them
    assert solution.training["kid"] is None and "memorisation" not in solution.training
    assert solution.training["sample_grid_png"]  # the judge's preview samples
    case, margin = WORSE[slug]
    worse = reports[f"wrong/{case}"].result
    assert not {"trains", "loss_decreases", "bits_per_dim"} & set(reports[f"wrong/{case}"].actual_failures)
    assert worse.training["fid"] > bits + margin, (bits, worse.training["fid"])
