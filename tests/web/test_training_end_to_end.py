"""A training exercise end to end, on the CPU at the tiny profile: two students submit
`ddpm-train` through the API, a real Celery worker of the training queue (as the demo runs
it) trains each submission in the Docker sandbox at the profile stored with the job, samples
in a second one and scores the samples; the reference baseline is computed by the same
worker through the same pipeline. While a job trains, its page gets live progress (steps and
the loss). The correct submission must rank above the buggy one, and the board must show
both students and the baseline. After the deadline the instructor reveals the private board:
the same worker samples each entry's stored checkpoint again with new seeds and scores it
against the held-back data; students then see it."""
from __future__ import annotations

import math
import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import api_token_create, user_create
from catalog.models import Exercise
from catalog.services import course_exercise_create, exercise_sync
from courses.models import Enrollment
from courses.services import course_create, enrollment_create
from leaderboard.models import Baseline, BoardReveal, LeaderboardEntry
from leaderboard.services import baseline_request
from submissions.models import Submission

from .conftest import REPO_ROOT

pytestmark = pytest.mark.docker  # every test here grades in the real sandbox

# ddpm-train extends ddpm-schedule: its solution and this known-wrong case are the core exercise's files.
CORE = REPO_ROOT / "exercises" / "ddpm-schedule"
BUGGY = "q_no_sqrt_alpha_bar.py"  # x_t = alpha_bar * x0 + ...: trains as usual, samples clearly worse
PROFILE = "tiny"
DEADLINE_S = 20 * 60  # two trainings and the baseline, one after the other, on a shared 2-core machine


def _submit(client: Client, token: str, course: str, path) -> int:
    response = client.post("/api/submissions/", {"course": course, "exercise": "ddpm-train",
                                                 "file": path.open("rb")},
                           HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _wait_until_done(submission_ids: list[int], baseline: Baseline, worker) -> list[dict]:
    """Polls until all are finished; returns the live progress seen meanwhile."""
    deadline = time.monotonic() + DEADLINE_S
    seen = []
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker died; log: {worker.log_path}"
        rows = list(Submission.objects.filter(pk__in=submission_ids).values_list("status", "progress"))
        states = {status for status, _ in rows}
        seen += [progress for status, progress in rows if status == "running" and progress]
        baseline.refresh_from_db()
        finished = not states & set(Submission.PENDING)
        if finished and baseline.status in (Baseline.Status.DONE, Baseline.Status.FAILED):
            return seen
        time.sleep(1)
    raise AssertionError(f"not done within {DEADLINE_S} s: submissions {states}, baseline {baseline.status}")


@pytest.mark.django_db(transaction=True)
def test_correct_ddpm_train_ranks_above_a_buggy_one_beside_the_baseline(start_worker, settings):
    settings.TRAINING_PROFILE = PROFILE  # stored with each job: the worker trains at it; the board compares it
    exercise_sync(slug="ddpm-train")
    exercise = Exercise.objects.get(slug="ddpm-train")
    instructor = user_create(username="teacher", password="correct horse battery")
    course = course_create(slug="dgm", title="DGM", instructor=instructor)
    students = {}
    for name in ("alice", "bob"):
        students[name] = user_create(username=name, password="correct horse battery")
        enrollment_create(user=students[name], course=course, role=Enrollment.Role.STUDENT)
    ce = course_exercise_create(course=course, exercise=exercise, points=10)
    tokens = {name: api_token_create(user=user)[1] for name, user in students.items()}

    worker = start_worker(queues="training")  # the worker has no profile setting of its own
    baseline = baseline_request(exercise_version=exercise.current_version, profile=PROFILE)
    assert baseline is not None
    client = Client()
    correct = _submit(client, tokens["alice"], course.slug, CORE / "solution.py")
    buggy = _submit(client, tokens["bob"], course.slug, CORE / "wrong" / BUGGY)
    progress = _wait_until_done([correct, buggy], baseline, worker)
    training = [p for p in progress if p.get("phase") == "training" and (p.get("step") or 0) > 0]
    assert training, f"no live training progress was seen: {progress[-3:]}"
    assert any(len(p["series"].get("loss", [])) >= 2 for p in training), training[-1]
    assert all(p["budget_s"] == exercise.current_version.training["profiles"][PROFILE]["train_time_s"]
               for p in training)

    results = {pk: Submission.objects.get(pk=pk).result for pk in (correct, buggy)}
    for pk, result in results.items():
        assert result["status"] == "graded", (pk, result["output"])
        assert result["training"]["profile"] == PROFILE and result["training"]["steps_done"] > 0
        assert math.isfinite(result["training"]["fid"]), result["training"]
        assert result["provenance"]["exercise_version"] == exercise.current_version.version
        assert result["provenance"]["image"] and result["provenance"]["sample_seed"] is not None
    assert results[correct]["score"] == results[correct]["max_score"]
    assert results[buggy]["score"] < results[buggy]["max_score"]  # its component checks catch the bug
    assert results[correct]["training"]["fid"] < results[buggy]["training"]["fid"]
    assert baseline.status == Baseline.Status.DONE, baseline.error
    assert math.isfinite(baseline.fid)

    # The board as the instructor sees it: both students, the correct one first, and the baseline row.
    client.force_login(instructor)
    board = client.get(f"/api/courses/{course.slug}/exercises/ddpm-train/leaderboard/").json()
    students_rows = [row for row in board["rows"] if not row.get("baseline")]
    assert [row["username"] for row in students_rows] == ["alice", "bob"]
    assert [row["rank"] for row in students_rows] == [1, 2]
    assert [row for row in board["rows"] if row.get("baseline")], board["rows"]
    page = client.get(f"/courses/{course.slug}/ddpm-train/leaderboard/").content.decode()
    table = page[page.index('id="leaderboard"'):page.index("</table>", page.index('id="leaderboard"'))]
    assert re.search(r"alice.*bob", table, re.S) and 'class="baseline"' in table

    # The private board: revealed after the deadline, sampled again by the same worker from the stored checkpoints.
    assert all(bytes(e.checkpoint.data) for e in LeaderboardEntry.objects.all())
    ce.deadline = timezone.now() - timedelta(minutes=1)
    ce.save(update_fields=["deadline"])
    assert client.post(f"/courses/{course.slug}/ddpm-train/leaderboard/reveal/").status_code == 302
    reveal = BoardReveal.objects.get(course_exercise=ce)
    deadline = time.monotonic() + 5 * 60
    while reveal.revealed_at is None:
        assert worker.poll() is None and time.monotonic() < deadline, \
            list(LeaderboardEntry.objects.values_list("private_status", "private_error"))
        time.sleep(1)
        reveal.refresh_from_db()
    entries = {e.user.username: e for e in LeaderboardEntry.objects.select_related("user")}
    assert {name: e.private_status for name, e in entries.items()} == {"alice": "done", "bob": "done"}, \
        {name: e.private_error for name, e in entries.items()}
    for entry in entries.values():
        assert math.isfinite(entry.private_fid) and entry.private_fid != entry.fid  # new samples, other data
    client.force_login(students["bob"])
    private = client.get(f"/api/courses/{course.slug}/exercises/ddpm-train/leaderboard/").json()
    assert private["reveal"] == "revealed" and len(private["private_rows"]) == 2
    assert str(reveal.seed) not in str(private)
