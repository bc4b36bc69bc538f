import shutil
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.models import ExerciseVersion
from catalog.services import exercise_sync, exercise_sync_all
from grader.spec import list_exercises
from submissions.models import Submission
from submissions.services import submission_attempts_used, submission_create

from .conftest import SOLUTION


@pytest.mark.django_db
def test_sync_is_idempotent_and_creates_every_exercise():
    first = exercise_sync_all()
    assert sorted(first.created) == list_exercises()
    assert {"attention", "ddpm-schedule", "gan-minimax", "vae-elbo", "vae-reparam"} <= set(first.created)
    again = exercise_sync_all()
    assert again.created == again.updated == [] and len(again.unchanged) == len(first.created)
    assert ExerciseVersion.objects.count() == len(first.created)
    version = ExerciseVersion.objects.get(exercise__slug="vae-reparam")
    assert version.bundle is not None and version.max_score == 14
    assert "def reparameterize" in version.starter_py
    assert '"nbformat": 4' in version.starter_ipynb
    assert {c["name"] for c in version.checks} >= {"mean", "gradients"}


@pytest.mark.django_db
def test_a_changed_exercise_gets_a_new_version_and_keeps_the_old(tmp_path, monkeypatch):
    import grader.spec

    root = tmp_path / "exercises"
    shutil.copytree(grader.spec.EXERCISES_DIR / "vae-reparam", root / "vae-reparam")
    monkeypatch.setattr(grader.spec, "EXERCISES_DIR", root)
    assert exercise_sync(slug="vae-reparam") == "created"
    toml = root / "vae-reparam" / "exercise.toml"
    toml.write_text(toml.read_text().replace("[checks.mean]\npoints = 2", "[checks.mean]\npoints = 3"))
    assert exercise_sync(slug="vae-reparam") == "updated"
    assert exercise_sync(slug="vae-reparam") == "unchanged"
    versions = ExerciseVersion.objects.filter(exercise__slug="vae-reparam").order_by("id")
    assert [v.max_score for v in versions] == [14, 15]
    assert versions[1].exercise.current_version == versions[1]


def test_submission_is_stored_and_enqueued_on_commit(world, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    assert sub.status == "queued" and bytes(sub.data) == SOLUTION
    assert sub.exercise_version == world.exercise.current_version
    assert enqueued == [(sub.pk, "quick", None)] and sub.queue == "quick" and sub.queued_at is not None


def test_outsider_cannot_submit(world, enqueued):
    with pytest.raises(PermissionDenied):
        submission_create(user=world.outsider, course_exercise=world.ce, filename="s.py", data=SOLUTION)
    assert Submission.objects.count() == 0


def test_infrastructure_errors_do_not_count_as_attempts(world, enqueued):
    world.ce.max_submissions = 2
    world.ce.save()
    first = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=first.pk).update(status="infrastructure_error")
    submission_create(user=world.owner, course_exercise=world.ce, filename="b.py", data=SOLUTION)
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 1
    submission_create(user=world.owner, course_exercise=world.ce, filename="c.py", data=SOLUTION)
    with pytest.raises(ValidationError, match="all 2 submissions"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="d.py", data=SOLUTION)
    # the limit is per student: the peer still may
    submission_create(user=world.peer, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    # instructors are not limited
    for _ in range(3):
        submission_create(user=world.instructor, course_exercise=world.ce, filename="i.py", data=SOLUTION)


def test_deadlines_late_flag_and_closing(world, enqueued):
    now = timezone.now()
    world.ce.deadline = now - timedelta(hours=1)
    world.ce.late_deadline = now + timedelta(hours=1)
    world.ce.save()
    late = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    assert late.is_late
    with pytest.raises(ValidationError, match="deadline"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION,
                          now=now + timedelta(hours=2))
    world.ce.published = False
    world.ce.save()
    with pytest.raises(ValidationError, match="not open"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)


def test_demo_command_prints_passwords_once(db, capsys):
    from django.core.management import call_command

    from courses.models import Course

    call_command("demo")
    out = capsys.readouterr().out
    course = Course.objects.get(slug="dgm-demo")
    from grader.spec import list_exercises

    assert course.course_exercises.count() == len(list_exercises())  # every exercise, the training ones too
    from courses.management.commands.demo import ORDER

    assert set(list_exercises()) <= set(ORDER), "every exercise has its place in the teaching order"
    listed = [ce.exercise.slug for ce in course.course_exercises.order_by("position")]
    assert listed == [slug for slug in ORDER if slug in listed]  # in teaching order on the course page
    assert course.leaderboard_pseudonyms
    assert course.enrollments.filter(role="student").count() == 2
    assert course.enrollments.filter(role="instructor").count() == 1
    lines = [ln for ln in out.splitlines() if "password:" in ln]
    assert len(lines) == 3
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    username, password = lines[1].split()[1], lines[1].split()[-1]
    request = RequestFactory().post("/login/")  # django-axes checks every authentication against its request
    assert authenticate(request, username=username, password=password) is not None
