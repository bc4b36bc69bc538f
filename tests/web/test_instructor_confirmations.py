"""Regrade all asks first: the dashboard's button opens a confirmation page (no JavaScript needed) that
says how many gradings it queues; only its form regrades."""
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from courses.models import Enrollment
from courses.services import enrollment_create
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")
EX = {"slug": "dgm", "exercise_slug": "vae-reparam"}


def test_regrade_all_is_confirmed_on_its_own_page(client, world, enqueued, django_capture_on_commit_callbacks):
    for user in (world.owner, world.owner, world.peer):
        sub = submission_create(user=user, course_exercise=world.ce, filename="a.py", data=SOLUTION)
        Submission.objects.filter(pk=sub.pk).update(status="graded", score=1.0, max_score=13.0,
                                                    finished_at=timezone.now())
    submission_create(user=world.peer, course_exercise=world.ce, filename="a.py", data=SOLUTION)  # pending
    client.force_login(world.instructor)
    dashboard = client.get(reverse("courses:exercise_dashboard", kwargs=EX)).content.decode()
    confirm = reverse("courses:exercise_regrade_all_confirm", kwargs=EX)
    regrade = reverse("courses:exercise_regrade_all", kwargs=EX)
    assert f'method="get" action="{confirm}"' in dashboard and f'action="{regrade}"' not in dashboard
    enqueued.clear()
    page = client.get(confirm, {"at": "submitted"})
    html = page.content.decode()
    assert page.status_code == 200 and enqueued == []  # opening the page regrades nothing
    assert "3 submissions</strong> of 2 students" in html and "the version each was submitted against" in html
    assert f'method="post" action="{regrade}"' in html and 'name="at" value="submitted"' in html
    assert "1 still being graded is left alone" in html
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(regrade, {"at": "submitted"}).status_code == 302
    assert len(enqueued) == 3


def test_who_may_open_the_confirmation(client, world):
    ta = user_create(username="assistant", password="correct horse battery")
    enrollment_create(user=ta, course=world.course, role=Enrollment.Role.TA)
    url = reverse("courses:exercise_regrade_all_confirm", kwargs=EX)
    for user, expected in ((world.owner, 404), (world.peer, 404), (world.outsider, 404), (ta, 200),
                           (world.instructor, 200)):
        client.force_login(user)
        assert client.get(url).status_code == expected, user.username
