"""A real grading: upload -> on_commit -> Redis -> a real Celery worker process -> the Docker sandbox."""
import time

import pytest

from grader.spec import load_exercise
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import REPO_ROOT, SOLUTION


def wait_finished(pks, worker, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subs = list(Submission.objects.filter(pk__in=pks))
        if all(not s.is_pending for s in subs):
            return {s.pk: s for s in subs}
        assert worker.poll() is None, open(worker.log_path).read()[-4000:]
        time.sleep(0.5)
    raise AssertionError("not graded in time; worker log:\n" + open(worker.log_path).read()[-4000:])


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_real_worker_grades_right_and_wrong_submissions(world, docker_sandbox, celery_worker_process):
    wrong_case = next(c for c in load_exercise("vae-reparam").wrong_cases() if c.name == "variance_as_std"
                      or c.path.name == "variance_as_std.py")
    right = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    wrong = submission_create(user=world.peer, course_exercise=world.ce, filename="wrong.py",
                              data=wrong_case.path.read_bytes())
    done = wait_finished([right.pk, wrong.pk], celery_worker_process)

    good = done[right.pk]
    assert good.status == "graded" and good.score == good.max_score == 14
    assert good.worker and good.claim_token
    assert good.result["provenance"]["sandbox"] == "docker"
    assert good.result["provenance"]["image"].startswith("sha256:")
    assert all(t["status"] == "passed" for t in good.result["tests"])

    bad = done[wrong.pk]
    failed = {t["name"] for t in bad.result["tests"] if t["status"] != "passed"}
    assert bad.status == "graded" and set(wrong_case.fails) == failed
    assert bad.score < bad.max_score
    assert (REPO_ROOT / "exercises").is_dir()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_without_docker_retries_then_gives_up_without_charging(world, start_worker):
    """Docker unreachable: the worker puts the submission back in the queue, retries after the
    countdown through Redis, then marks it infrastructure_error, which costs no attempt."""
    from submissions.services import submission_attempts_used

    worker = start_worker(DOCKER_HOST="unix:///nonexistent/docker.sock", DGM_INFRA_RETRIES="1",
                          DGM_RETRY_COUNTDOWN_S="1")
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    done = wait_finished([sub.pk], worker, timeout=120)[sub.pk]
    assert done.status == "infrastructure_error" and done.infra_failures == 2
    assert "Docker engine not reachable" in done.last_infra_error
    assert done.result["status"] == "infrastructure_error" and done.score is None
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 0
