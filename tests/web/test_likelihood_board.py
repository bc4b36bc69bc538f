"""A likelihood board (flow-train, pixelcnn-train): results whose training block carries the judge's
bits/dim instead of an FID are stored, ranked lower-is-better and shown with their own words."""
from django.urls import reverse

from catalog.services import _training_fields
from grader.spec import load_exercise
from leaderboard.models import LeaderboardEntry
from submissions.services import submission_create

from .conftest import SOLUTION
from .leaderboard_world import finish, training_result

LABEL = "bits/dim (Fashion-MNIST test)"


def likelihood_result(bits: float) -> dict:
    """What grader/training.py returns for a likelihood exercise: the board's fields under their FID names
    (grader/likelihood.LikelihoodScore.board), no KID, no memorisation, no sampling time."""
    result = training_result(bits)
    t = result["training"]
    for key in ("kid", "kid_std", "memorisation", "sample_seconds"):
        t.pop(key)
    t.update(fid_label=LABEL, fid_interval=[bits - 0.0125, bits + 0.0125], metric="bits_per_dim", n_samples=5000,
             reference_part="public")
    result["leaderboard"] = [{"name": LABEL, "value": bits, "order": "asc"}]
    return result


def graded(w, user, bits: float):
    sub = submission_create(user=user, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    finish(sub, likelihood_result(bits))
    return sub


def likelihood_world(w):
    training = {**w.train_version.training, "metric": "bits_per_dim"}
    training["profiles"] = {name: {**p, "n_samples": 5000, "sample_time_s": 0}
                            for name, p in training["profiles"].items()}
    w.train_version.training = training
    w.train_version.save()
    return w


def test_the_catalogue_tells_a_likelihood_exercise_from_an_fid_one():
    assert _training_fields(load_exercise("flow-train"))["metric"] == "bits_per_dim"
    assert _training_fields(load_exercise("pixelcnn-train"))["metric"] == "bits_per_dim"
    assert _training_fields(load_exercise("ddpm-train"))["metric"] == "fid"


def test_entries_rank_by_bits_per_dim_lower_first_and_the_board_says_what_it_ranks(client, board_world):
    w = likelihood_world(board_world)
    graded(w, w.owner, 4.8123)
    graded(w, w.peer, 4.5071)
    entries = list(LeaderboardEntry.objects.order_by("fid"))
    assert [(e.fid_label, e.kid, e.flagged) for e in entries] == [(LABEL, None, False)] * 2
    client.force_login(w.owner)
    page = client.get(reverse("leaderboard:board", args=["dgm", "toy-train"])).content.decode()
    assert LABEL in page and "N = 5000 test images per entry" in page and "held-back half" in page
    assert "4.507" in page and "4.812" in page
    assert page.index("4.507") < page.index("4.812")  # three decimals, best first
    assert "(4.495–4.520)" in page  # the interval at the same precision
    assert "<th class=\"num\">KID</th>" not in page and "Precision / recall" not in page


def test_the_submission_page_speaks_of_test_images_and_the_judges_computation(client, board_world):
    w = likelihood_world(board_world)
    sub = graded(w, w.owner, 4.9012)
    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert LABEL in page and "4.90 (95 % interval 4.89–4.91)" in page
    assert "Test images scored (N)" in page and "computed by the judge from your trained weights" in page
    assert "Memorisation" not in page and "KID" not in page
