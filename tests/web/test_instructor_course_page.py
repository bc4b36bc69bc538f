"""The student's course page: what is due next (their own deadlines, soonest first) and their course total."""
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import CourseExercise, Exercise
from catalog.services import course_exercise_create, exercise_sync
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def test_due_next_and_the_course_total(client, world):
    now = timezone.now()
    for slug in ("vae-elbo", "attention"):
        exercise_sync(slug=slug)
    elbo = course_exercise_create(course=world.course, exercise=Exercise.objects.get(slug="vae-elbo"), points=20,
                                  deadline=now + timedelta(days=1))
    attention = course_exercise_create(course=world.course, exercise=Exercise.objects.get(slug="attention"),
                                       points=5, deadline=now + timedelta(days=9))
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now - timedelta(days=1))  # past: not "next"
    hidden = CourseExercise.objects.filter(pk=attention.pk)
    sub = submission_create(user=world.owner, course_exercise=elbo, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=5.0, visible_score=5.0, max_score=10.0)
    client.force_login(world.owner)
    response = client.get("/courses/dgm/")
    assert [r["ce"].pk for r in response.context["due_next"]] == [elbo.pk, attention.pk]
    assert response.context["total"] == pytest.approx(10.0) and response.context["total_max"] == 35
    html = response.content.decode()
    assert 'id="course-total">10.00</span> / 35 points' in html
    assert html.index(elbo.exercise.current_version.title) < html.index(attention.exercise.current_version.title)
    hidden.update(published=False)  # unpublished exercises are neither due nor counted
    response = client.get("/courses/dgm/")
    assert [r["ce"].pk for r in response.context["due_next"]] == [elbo.pk] and response.context["total_max"] == 30
    client.force_login(world.instructor)  # staff have no total of their own
    assert 'id="course-total"' not in client.get("/courses/dgm/").content.decode()
