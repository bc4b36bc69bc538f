"""Workers and their jobs: queue position and expected start, the job monitor (heartbeat, progress,
cancellation), cancelling (queued and running: no attempt charged, no container left), the sweep that
requeues a job whose worker stopped heartbeating, and the status page with its authorisation."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from grader.sandbox.docker_sandbox import sandbox_containers
from submissions import tasks
from submissions.models import Submission
from submissions.services import (
    submission_attempts_used,
    submission_claim,
    submission_claim_queryset,
    submission_create,
    submission_finish,
    submission_requeue_silent,
)
from workers.models import WorkerHeartbeat
from workers.monitor import JobMonitor
from workers.selectors import submission_wait

from .conftest import SOLUTION


def _submit(world, user=None, data=SOLUTION, filename="solution.py"):
    return submission_create(user=user or world.owner, course_exercise=world.ce, filename=filename, data=data)


def _alive_worker(name="quick@test", queues=("quick",), concurrency=2):
    now = timezone.now()
    return WorkerHeartbeat.objects.create(name=name, hostname="test", pid=1, queues=list(queues),
                                          concurrency=concurrency, started_at=now, last_seen_at=now)


def _finished(world, seconds: float, user=None):
    sub = _submit(world, user=user)
    token = submission_claim(submission_id=sub.pk, worker="test:1")
    submission_finish(submission_id=sub.pk, token=token,
                      result={"status": "graded", "score": 13.0, "max_score": 13.0, "tests": []})
    now = timezone.now()
    Submission.objects.filter(pk=sub.pk).update(claimed_at=now - timedelta(seconds=seconds), finished_at=now)
    return sub


# Queue position and expected start --------------------------------------------------------------------------

def test_a_queued_submission_knows_its_place_and_when_it_should_start(world, enqueued):
    for seconds in (2.0, 4.0, 3.0):  # recent gradings of this exercise: median 3 s
        _finished(world, seconds)
    running = _submit(world, user=world.peer)
    submission_claim(submission_id=running.pk, worker="test:2")
    queued = [_submit(world) for _ in range(4)]
    assert submission_wait(submission=queued[0])["slots"] == 0  # no worker alive for the quick queue
    _alive_worker(concurrency=2)
    waits = [submission_wait(submission=s) for s in queued]
    assert [w["position"] for w in waits] == [1, 2, 3, 4]
    assert [w["running"] for w in waits] == [1] * 4 and waits[0]["slots"] == 2 and waits[0]["typical_s"] == 3.0
    # one slot is free: the first starts at once; then each waits for the jobs ahead, two at a time
    assert [w["estimated_start_s"] for w in waits] == [0.0, 1.5, 3.0, 4.5]
    running.refresh_from_db()
    assert submission_wait(submission=running) is None


def test_the_page_and_the_api_show_the_wait_and_say_when_no_worker_is_alive(client, world, enqueued):
    sub = _submit(world)
    client.force_login(world.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "position 1 in the <code>quick</code> queue" in page
    assert "No worker is taking jobs from this queue right now" in page and 'id="cancel-form"' in page
    _alive_worker()
    body = client.get(f"/api/submissions/{sub.pk}/").json()
    assert body["wait"]["position"] == 1 and body["wait"]["slots"] == 2 and body["can_cancel"] is True
    assert body["running"] is None


# The job monitor ---------------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_monitor_beats_reports_progress_and_cancels_when_the_claim_is_gone(world, enqueued):
    sub = _submit(world)
    token = submission_claim(submission_id=sub.pk, worker="test:1")
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    monitor = JobMonitor(submission_claim_queryset(submission_id=sub.pk, token=token), every_s=0.05)
    with monitor as watch:
        watch.report({"phase": "training", "step": 7, "series": {"loss": [[7, 0.5]]}})
        deadline = time.monotonic() + 10
        while Submission.objects.get(pk=sub.pk).progress is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        row = Submission.objects.get(pk=sub.pk)
        assert row.progress["step"] == 7 and timezone.now() - row.heartbeat_at < timedelta(seconds=5)
        assert not watch.cancelled.is_set()
        Submission.objects.filter(pk=sub.pk).update(status=Submission.Status.CANCELLED, claim_token="")
        assert watch.cancelled.wait(10)  # the next beat finds no claim: the grading is told to stop


# Cancelling --------------------------------------------------------------------------------------------------

def test_a_queued_submission_cancelled_by_its_owner_costs_nothing_and_is_never_graded(client, world, enqueued,
                                                                                     monkeypatch):
    sub = _submit(world)
    client.force_login(world.owner)
    response = client.post(reverse("submission-cancel", args=[sub.pk]))
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "cancelled" and sub.finished_at is not None
    assert "does not count" in sub.result["output"]
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 0
    monkeypatch.setattr(tasks, "sandbox_for_queue", lambda q: pytest.fail("a cancelled job must not run"))
    assert tasks.grade_submission.run(sub.pk) == "not-claimed"
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "not counted" in page and 'id="cancel-form"' not in page
    assert client.post(reverse("submission-cancel", args=[sub.pk])).status_code == 302  # finished: a message only


@pytest.mark.parametrize("who, status", [("owner", 200), ("instructor", 200), ("peer", 404), ("outsider", 404)])
def test_who_may_cancel_through_the_api(client, world, enqueued, who, status):
    sub = _submit(world)
    response = client.post(f"/api/submissions/{sub.pk}/cancel/", HTTP_AUTHORIZATION=f"Token {world.tokens[who]}")
    assert response.status_code == status
    sub.refresh_from_db()
    assert sub.status == ("cancelled" if status == 200 else "queued")
    if status == 200:
        assert response.json()["status"] == "cancelled" and response.json()["counts_as_attempt"] is False
        again = client.post(f"/api/submissions/{sub.pk}/cancel/", HTTP_AUTHORIZATION=f"Token {world.tokens[who]}")
        assert again.status_code == 409
    assert client.post(f"/api/submissions/{sub.pk}/cancel/").status_code == 401


@pytest.mark.parametrize("who", ["peer", "outsider"])
def test_others_cannot_cancel_from_the_page(client, world, enqueued, who):
    sub = _submit(world)
    client.force_login(getattr(world, who))
    assert client.post(reverse("submission-cancel", args=[sub.pk])).status_code == 404
    assert Submission.objects.get(pk=sub.pk).status == "queued"


# With real workers -------------------------------------------------------------------------------------------

SLOW_IMPORT = b"import time\ntime.sleep(8)\n" + SOLUTION  # 8 s inside the sandbox before any probe


def _containers(client, worker=None):
    return sandbox_containers(client, worker)


def _wait_running_with_container(sub, client, proc, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        sub.refresh_from_db()
        if sub.status == "running" and sub.worker and _containers(client, sub.worker):
            return
        assert proc.poll() is None, open(proc.log_path).read()[-3000:]
        assert sub.status in ("queued", "running"), (sub.status, sub.result)
        assert time.monotonic() < deadline, "the grading never started:\n" + open(proc.log_path).read()[-3000:]
        time.sleep(0.1)


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_job_kills_its_sandbox_and_charges_nothing(client, world, docker_sandbox,
                                                                        start_worker):
    docker = docker_sandbox.client
    worker = start_worker(DGM_JOB_HEARTBEAT_S="1")
    sub = _submit(world, data=SLOW_IMPORT, filename="slow.py")
    _wait_running_with_container(sub, docker, worker)
    container_worker = sub.worker
    client.force_login(world.owner)
    cancelled_at = time.monotonic()
    assert client.post(reverse("submission-cancel", args=[sub.pk])).status_code == 302
    while _containers(docker, container_worker):
        assert time.monotonic() - cancelled_at < 20, "the sandbox of a cancelled job is still there"
        time.sleep(0.1)
    assert time.monotonic() - cancelled_at < 8  # killed, not left to finish its 8-second import
    deadline = time.monotonic() + 30
    while "succeeded" not in (log := open(worker.log_path).read()) or "'cancelled'" not in log:
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.2)
    sub.refresh_from_db()
    assert sub.status == "cancelled" and sub.score is None
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 0


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_stops_heartbeating_is_requeued_and_graded_once_elsewhere(world, docker_sandbox,
                                                                                     start_worker, settings):
    """The first worker freezes (SIGSTOP: a hung host, whose processes still exist, so no restart on
    its host would notice). Its job's heartbeat stops; the sweep requeues it once the heartbeat is
    older than JOB_HEARTBEAT_TIMEOUT_S; a second worker grades it; when the first wakes up, its claim
    is gone: it stores nothing and removes its sandbox."""
    docker = docker_sandbox.client
    settings.JOB_HEARTBEAT_TIMEOUT_S = 6
    first = start_worker(DGM_JOB_HEARTBEAT_S="1")
    sub = _submit(world, data=SLOW_IMPORT, filename="slow.py")
    _wait_running_with_container(sub, docker, first)
    frozen_worker, frozen_token = sub.worker, sub.claim_token
    os.killpg(first.pid, signal.SIGSTOP)
    second = start_worker(DGM_JOB_HEARTBEAT_S="1")
    try:
        stopped_at = time.monotonic()
        requeued = []
        while not requeued:  # what beat runs every DGM_SWEEP_EVERY_S
            requeued = submission_requeue_silent()
            assert time.monotonic() - stopped_at < 60, "not requeued"
            time.sleep(0.5)
        assert requeued == [sub.pk] and time.monotonic() - stopped_at >= 5  # not before the timeout
        deadline = time.monotonic() + 180
        while Submission.objects.get(pk=sub.pk).is_pending:
            assert second.poll() is None, open(second.log_path).read()[-3000:]
            assert time.monotonic() < deadline, open(second.log_path).read()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == sub.max_score == 14
    assert sub.worker != frozen_worker and sub.claim_token != frozen_token
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 1
    deadline = time.monotonic() + 40  # the first worker wakes up, finds its claim gone, removes its sandbox
    while _containers(docker, frozen_worker):
        assert time.monotonic() < deadline, open(first.log_path).read()[-3000:]
        time.sleep(0.2)
    assert Submission.objects.get(pk=sub.pk).score == 14  # and its late result did not overwrite the grade


# The status page ---------------------------------------------------------------------------------------------

@pytest.fixture
def staff(db):
    user = user_create(username="operator", password="correct horse battery")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.parametrize("who, course_page, platform_page", [
    ("owner", 404, 404), ("peer", 404, 404), ("outsider", 404, 404), ("instructor", 200, 404), ("staff", 200, 200)])
def test_who_sees_the_status_pages(client, world, enqueued, staff, who, course_page, platform_page):
    client.force_login(staff if who == "staff" else getattr(world, who))
    assert client.get(reverse("course-status", args=[world.course.slug])).status_code == course_page
    assert client.get(reverse("platform-status")).status_code == platform_page
    client.logout()
    assert client.get(reverse("platform-status")).status_code == 302  # to the login page


def test_the_status_page_shows_workers_queues_late_and_silent_jobs_and_infrastructure_errors(
        client, world, enqueued, staff, settings):
    from catalog.services import course_exercise_create
    from courses.services import course_create

    settings.JOB_HEARTBEAT_TIMEOUT_S = 60
    other_teacher = user_create(username="other-teacher", password="correct horse battery")
    other = course_create(slug="other", title="Other", instructor=other_teacher)
    other_ce = course_exercise_create(course=other, exercise=world.exercise, points=10)
    _alive_worker(name="quick@host-a")
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="training@host-b", hostname="host-b", pid=2, queues=["training"],
                                   concurrency=1, started_at=now - timedelta(hours=1),
                                   last_seen_at=now - timedelta(minutes=10))
    late = _submit(world)
    submission_claim(submission_id=late.pk, worker="host-a:10", node="quick@host-a")
    Submission.objects.filter(pk=late.pk).update(claimed_at=now - timedelta(minutes=10),
                                                 heartbeat_at=now - timedelta(minutes=2))
    theirs = submission_create(user=other_teacher, course_exercise=other_ce, filename="s.py", data=SOLUTION)
    submission_claim(submission_id=theirs.pk, worker="host-a:11", node="quick@host-a")
    waiting = _submit(world, user=world.peer)
    Submission.objects.filter(pk=waiting.pk).update(queued_at=now - timedelta(seconds=90))
    broken = _submit(world)
    Submission.objects.filter(pk=broken.pk).update(status="infrastructure_error", infra_failures=6,
                                                   last_infra_error="sandbox unavailable: <b>Docker</b> down",
                                                   finished_at=now)

    client.force_login(staff)
    status = client.get(reverse("platform-status") + "?format=json").json()
    workers = {w["name"]: w for w in status["workers"]}
    assert workers["quick@host-a"]["alive"] and not workers["training@host-b"]["alive"]
    assert {j["id"] for j in workers["quick@host-a"]["jobs"]} == {late.pk, theirs.pk}
    quick = next(q for q in status["queues"] if q["name"] == "quick")
    training = next(q for q in status["queues"] if q["name"] == "training")
    assert (quick["queued"], quick["running"], quick["slots"]) == (1, 2, 2) and quick["oldest_waiting_s"] >= 89
    assert quick["oldest"]["id"] == waiting.pk and training["slots"] == 0  # its only worker went silent
    assert [j["id"] for j in status["over_budget"]] == [late.pk]  # 10 min against a 60 s budget
    assert [j["id"] for j in status["silent"]] == [late.pk]  # no heartbeat for 2 min: the sweep requeues it
    assert [e["id"] for e in status["infra_errors"]] == [broken.pk]
    page = client.get(reverse("platform-status")).content.decode()
    assert "sandbox unavailable: &lt;b&gt;Docker&lt;/b&gt; down" in page and "<b>Docker</b>" not in page
    assert "silent for" in page and "none alive" in page

    client.force_login(world.instructor)  # their course's jobs; the other course's job is counted only
    course_view = client.get(reverse("course-status", args=[world.course.slug]) + "?format=json").json()
    jobs = {j["id"]: j for w in course_view["workers"] for j in w["jobs"]}
    assert jobs[late.pk]["label"] == "vae-reparam by owner"
    assert jobs[theirs.pk]["label"] == "a job of another course" and jobs[theirs.pk]["url"] == ""
    assert "other-teacher" not in client.get(reverse("course-status", args=[world.course.slug])).content.decode()
