"""A sampler race's board (sampler-race): results whose training block carries the DDIM steps to the
target FID instead of an FID are stored, ranked fewer-steps-first and shown with their own words and
their FID ladder; a sampler that never reaches the target has no entry."""
from django.urls import reverse

from catalog.services import _training_fields
from grader.spec import load_exercise
from leaderboard.models import LeaderboardEntry
from submissions.services import submission_create

from .conftest import SOLUTION
from .leaderboard_world import finish, training_result

LABEL = "DDIM steps to FID (Fashion-MNIST features) ≤ 200"


def race_result(steps: float | None, fids=(700.0, 420.0, 190.0, 120.0)) -> dict:
    """What grader/training.py returns for a race (grader/race.RaceScore.board): the steps under the FID
    names, no KID and no interval, the ladder's FIDs under `race`, nothing trained."""
    result = training_result(steps)
    t = result["training"]
    t.update(fid_label=LABEL, kid=None, kid_std=None, metric="steps_to_fid", steps=0, steps_done=0, batch_size=0,
             train_seconds=None, checkpoint_bytes=None, reference_part="public",
             race={"target_fid": 200.0, "scored_rung": 4, "scored_fid": fids[2], "scored_kid": 0.2,
                   "rungs": [{"steps": s, "fid": f} for s, f in zip((1, 2, 4, 8), fids, strict=True)]})
    result["leaderboard"] = [{"name": LABEL, "value": steps, "order": "asc"}] if steps is not None else []
    return result


def graded(w, user, steps, **kwargs):
    sub = submission_create(user=user, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    finish(sub, race_result(steps, **kwargs))
    return sub


def race_world(w):
    w.train_version.training = {**w.train_version.training, "metric": "steps_to_fid"}
    w.train_version.save()
    return w


def test_the_catalogue_tells_a_race_from_the_other_boards():
    assert _training_fields(load_exercise("sampler-race"))["metric"] == "steps_to_fid"


def test_entries_rank_by_steps_fewest_first_and_the_board_says_what_it_ranks(client, board_world):
    w = race_world(board_world)
    graded(w, w.owner, 5.42)
    graded(w, w.peer, 3.87)
    entries = list(LeaderboardEntry.objects.order_by("fid"))
    assert [(e.fid, e.fid_label, e.kid) for e in entries] == [(3.87, LABEL, None), (5.42, LABEL, None)]
    client.force_login(w.owner)
    page = client.get(reverse("leaderboard:board", args=["dgm", "toy-train"])).content.decode()
    assert LABEL in page and "samples per rung per entry" in page and "interpolated between rungs" in page
    assert page.index("3.87") < page.index("5.42")
    assert "<th class=\"num\">KID</th>" not in page and "Precision / recall" not in page
    assert " steps</td>" not in page  # nothing was trained: no "0 steps" of compute


def test_a_sampler_that_never_reaches_the_target_has_no_entry_and_its_page_says_why(client, board_world):
    w = race_world(board_world)
    sub = graded(w, w.owner, None, fids=(900.0, 800.0, 700.0, 650.0))
    assert not LeaderboardEntry.objects.filter(submission=sub).exists()
    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "did not reach the target FID 200.0 on any rung" in page
    assert page.count("<td>—</td>") == 4  # no rung reached


def test_the_submission_page_shows_the_ladder_and_the_rung_that_reached_the_target(client, board_world):
    w = race_world(board_world)
    sub = graded(w, w.owner, 3.41)
    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "The race and its samples" in page and LABEL in page and "3.41" in page
    assert "Samples per rung (N)" in page and "FID by number of steps (target 200.0)" in page
    assert page.count("<td>reached</td>") == 2 and "420.0" in page
    assert "trained in" not in page and "of 0 steps" not in page
