"""The claim, the grading service, retries after platform failures, the sweep of silent jobs, queue routing."""
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from grader.sandbox import SandboxUnavailable
from grader.sandbox.local import TrustedSubprocessRunner
from submissions import tasks
from submissions.models import Submission
from submissions.services import (
    submission_attempts_used,
    submission_claim,
    submission_create,
    submission_finish,
    submission_grade,
    submission_requeue_silent,
)

from .conftest import SOLUTION


def _submit(world, data=SOLUTION, user=None):
    return submission_create(user=user or world.owner, course_exercise=world.ce, filename="solution.py", data=data)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_one_wins(world, enqueued):
    sub = _submit(world)
    contenders = 8
    barrier = threading.Barrier(contenders)
    tokens = []

    def claim(i):
        try:
            barrier.wait()
            tokens.append(submission_claim(submission_id=sub.pk, worker=f"w{i}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [t for t in tokens if t]
    assert len(tokens) == contenders and len(winners) == 1
    sub.refresh_from_db()
    assert sub.status == "running" and sub.claim_token == winners[0] and sub.claimed_at is not None


def test_only_the_claim_holder_can_finish(world, enqueued):
    sub = _submit(world)
    token = submission_claim(submission_id=sub.pk, worker="w")
    result = {"status": "graded", "score": 13.0, "max_score": 13.0, "tests": []}
    assert not submission_finish(submission_id=sub.pk, token="someone-else", result=result)
    assert submission_finish(submission_id=sub.pk, token=token, result=result)
    assert not submission_finish(submission_id=sub.pk, token=token, result=result)  # already finished
    sub.refresh_from_db()
    assert (sub.status, sub.score) == ("graded", 13.0)


class Unavailable:
    name = "broken"

    def run(self, job, limits, **_):
        raise SandboxUnavailable("Docker engine not reachable (test)")


def test_duplicate_delivery_grades_once(world, enqueued, monkeypatch):
    sub = _submit(world)
    runs = []
    runner = TrustedSubprocessRunner()

    def factory(queue):
        runs.append(queue)
        return runner

    monkeypatch.setattr(tasks, "sandbox_for_queue", factory)
    assert tasks.grade_submission.run(sub.pk) == "graded"
    assert tasks.grade_submission.run(sub.pk) == "not-claimed"
    assert runs == ["quick"]
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == sub.max_score == 14
    assert all(t["status"] == "passed" for t in sub.result["tests"])
    assert sub.result["provenance"]["exercise_version"] == sub.exercise_version.version


def test_platform_failure_requeues_then_gives_up_without_charging(world, enqueued, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.GRADING_INFRA_RETRIES = 2
    settings.GRADING_RETRY_COUNTDOWN_S = 5
    with django_capture_on_commit_callbacks(execute=True):
        sub = _submit(world)
    outcomes = []
    for _ in range(3):
        token = submission_claim(submission_id=sub.pk, worker="w")
        assert token, "a released submission can be claimed again"
        with django_capture_on_commit_callbacks(execute=True):
            outcomes.append(submission_grade(submission_id=sub.pk, token=token,
                                             sandbox_factory=lambda q: Unavailable()))
        sub.refresh_from_db()
        if outcomes[-1] == "retry":
            assert sub.status == "queued" and sub.result is None
    assert outcomes == ["retry", "retry", "gave_up"]
    assert [c for (_, _, c) in enqueued] == [None, 5, 10]  # the first send, then two backed-off retries
    assert sub.status == "infrastructure_error" and sub.infra_failures == 3
    assert "not reachable" in sub.last_infra_error
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 0


def test_infrastructure_result_from_the_grader_is_retried(world, enqueued, django_capture_on_commit_callbacks):
    """grade() itself turns SandboxUnavailable into an infrastructure_error result: also a retry."""
    from grader.result import Result

    sub = _submit(world)
    token = submission_claim(submission_id=sub.pk, worker="w")

    class Failing:
        name = "x"

        def run(self, job, limits, **_):
            raise SandboxUnavailable("image missing")

    with django_capture_on_commit_callbacks(execute=True):
        assert submission_grade(submission_id=sub.pk, token=token, sandbox_factory=lambda q: Failing()) == "retry"
    sub.refresh_from_db()
    assert sub.status == "queued" and "does not count" in sub.last_infra_error
    assert Result  # the schema is the grader's


def test_an_earlier_grade_is_never_overwritten_by_a_platform_failure(world, enqueued):
    sub = _submit(world)
    token = submission_claim(submission_id=sub.pk, worker="w")
    submission_finish(submission_id=sub.pk, token=token,
                      result={"status": "graded", "score": 5.0, "max_score": 13.0, "tests": []})
    assert submission_claim(submission_id=sub.pk, worker="w2") is None  # finished work is never claimed again
    sub.refresh_from_db()
    assert sub.score == 5.0


def test_running_claims_whose_heartbeat_stopped_are_requeued(world, enqueued, settings,
                                                              django_capture_on_commit_callbacks):
    """A job is alive while its heartbeat is fresh, however long it has run; silent for longer than
    JOB_HEARTBEAT_TIMEOUT_S, it goes back to its queue."""
    settings.JOB_HEARTBEAT_TIMEOUT_S = 60
    stale, fresh = _submit(world), _submit(world, user=world.peer)
    old_token = submission_claim(submission_id=stale.pk, worker="dead")
    submission_claim(submission_id=fresh.pk, worker="alive")
    now = timezone.now()
    Submission.objects.filter(pk=stale.pk).update(heartbeat_at=now - timedelta(seconds=61))
    Submission.objects.filter(pk=fresh.pk).update(claimed_at=now - timedelta(hours=5),
                                                  heartbeat_at=now - timedelta(seconds=5))
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert submission_requeue_silent() == [stale.pk]
    assert enqueued == [(stale.pk, "quick", None)]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "queued" and fresh.status == "running"
    # the dead worker's late answer is discarded: its claim no longer holds
    assert not submission_finish(submission_id=stale.pk, token=old_token,
                                 result={"status": "graded", "score": 1.0, "max_score": 13.0, "tests": []})


def test_sweep_jobs_command(world, enqueued, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    sub = _submit(world)
    submission_claim(submission_id=sub.pk, worker="dead")
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_jobs", stdout=out)
    assert f"requeued 1 submission(s) [{sub.pk}]" in out.getvalue()


@contextmanager
def broker_at(url: str):
    """Point the Celery app at another broker for a while. Only our references to kombu's shared
    connection and producer pools are dropped (never closed: closing a shared pool breaks every
    later publish in this process), so restoring the URL gets the original pools back."""
    from config.celery import app

    def forget_pools():
        app._pool = None
        app.amqp._producer_pool = None

    saved = {k: app.conf[k] for k in ("broker_url", "task_publish_retry", "broker_connection_timeout")}
    app.conf.update(broker_url=url, task_publish_retry=False, broker_connection_timeout=1)
    forget_pools()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_pools()


def test_a_broker_that_is_down_leaves_the_submission_waiting(world, django_capture_on_commit_callbacks, caplog):
    """Redis unreachable (a real refused connection on 127.0.0.1): the upload still succeeds, the
    submission waits as queued, and the sweep sends it once the broker answers again."""
    with broker_at("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):
        sub = _submit(world)
    assert f"could not enqueue submission {sub.pk}" in caplog.text  # the broker really refused
    sub.refresh_from_db()
    assert sub.status == Submission.Status.QUEUED and submission_attempts_used(
        user=world.owner, course_exercise=world.ce) == 1


def test_the_sweep_resends_long_queued_submissions(world, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sub = _submit(world)
    assert [s[0] for s in enqueued] == [sub.pk]
    Submission.objects.filter(pk=sub.pk).update(queued_at=timezone.now() - timedelta(hours=2))
    submission_requeue_silent()
    assert [s[0] for s in enqueued] == [sub.pk, sub.pk]  # sent again; the claim keeps it to one grading


def test_queues_follow_the_cost_and_the_profile_travels_with_the_job(board_world, enqueued, settings,
                                                                     django_capture_on_commit_callbacks):
    """A function grading goes to `quick`; a training job to `training` at a CPU profile and to `gpu` at a
    CUDA one, with the platform's profile stored on the submission (the worker trains at that one)."""
    from leaderboard.services import baseline_queue, baseline_request
    from workers.queues import GPU, QUICK, TRAINING

    w = board_world
    w.train_version.training["profiles"]["gpu"] = {"steps": 1, "batch_size": 1, "train_time_s": 10,
                                                   "sample_time_s": 10, "n_samples": 10, "device": "cuda"}
    w.train_version.save()
    settings.TRAINING_PROFILE = "tiny"
    with django_capture_on_commit_callbacks(execute=True):
        quick = _submit(w)
        tiny = submission_create(user=w.owner, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    settings.TRAINING_PROFILE = "gpu"
    with django_capture_on_commit_callbacks(execute=True):
        gpu = submission_create(user=w.owner, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    assert [(q.queue, q.training_profile) for q in (quick, tiny, gpu)] == [
        (QUICK, ""), (TRAINING, "tiny"), (GPU, "gpu")]
    assert enqueued == [(quick.pk, QUICK, None), (tiny.pk, TRAINING, None), (gpu.pk, GPU, None)]
    with django_capture_on_commit_callbacks(execute=False):
        baseline = baseline_request(exercise_version=w.train_version, profile="cpu")
    assert baseline_queue(baseline=baseline) == TRAINING  # baselines never go to the quick queue
    settings.TRAINING_PROFILE = "huge"
    with pytest.raises(ValidationError, match="no training profile 'huge'"):
        submission_create(user=w.owner, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
