from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import CourseExercise
from courses.services import extension_grant
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def test_submission_create_applies_the_extension(world):
    now = timezone.now()
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now - timedelta(hours=1), max_submissions=1)
    world.ce.refresh_from_db()
    with pytest.raises(ValidationError, match="deadline"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    extension_grant(course_exercise=world.ce, user=world.owner, reason="r", deadline=now + timedelta(days=1),
                    extra_attempts=1)
    first = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    assert not first.is_late
    submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    with pytest.raises(ValidationError, match="all 2 submissions"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    with pytest.raises(ValidationError, match="deadline"):
        submission_create(user=world.peer, course_exercise=world.ce, filename="a.py", data=SOLUTION)


def test_hidden_checks_stay_hidden_until_the_owners_own_deadline(world):
    from submissions.models import Submission
    from submissions.selectors import best_scores_for_user, result_for_viewer

    now = timezone.now()
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now + timedelta(hours=1))
    world.ce.refresh_from_db()
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    tests = [{"name": "mean", "title": "Mean", "status": "passed", "score": 2, "max_score": 2,
              "visibility": "after_due_date"}]
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=2.0, visible_score=0.0, max_score=2.0,
                                                result={"status": "graded", "score": 2.0, "max_score": 2.0,
                                                        "tests": tests})
    sub.refresh_from_db()
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now - timedelta(hours=1))
    world.ce.refresh_from_db()
    shown = result_for_viewer(result=sub.result, course_exercise=world.ce, full=False, owner=world.owner.pk)
    assert shown["tests"][0]["title"] == "Mean"  # past the deadline: shown
    extension_grant(course_exercise=world.ce, user=world.owner, reason="r", deadline=now + timedelta(days=1))
    shown = result_for_viewer(result=sub.result, course_exercise=world.ce, full=False, owner=world.owner.pk)
    assert shown["tests"][0]["title"] == "Hidden check"  # the owner may still submit: withheld
    assert best_scores_for_user(user=world.owner, course=world.course)[world.ce.id]["score"] == 0.0


def test_the_exercise_page_shows_the_students_own_deadline_limit_and_reason(client, world):
    now = timezone.now()
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now - timedelta(hours=1), max_submissions=3)
    world.ce.refresh_from_db()
    extension_grant(course_exercise=world.ce, user=world.owner, reason="Ill <b>all week</b>",
                    deadline=now + timedelta(days=2), extra_attempts=2)
    client.force_login(world.owner)
    page = client.get("/courses/dgm/vae-reparam/").content.decode()
    assert 'id="extension"' in page and "Ill &lt;b&gt;all week&lt;/b&gt;" in page and "0 of 5 used" in page
    assert "in 1 day" in page or "in 2 days" in page  # the moved deadline, not the passed one
    assert "past due" not in page
    client.force_login(world.peer)
    page = client.get("/courses/dgm/vae-reparam/").content.decode()
    assert 'id="extension"' not in page and "0 of 3 used" in page and "past due" in page
