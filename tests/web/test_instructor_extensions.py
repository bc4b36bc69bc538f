"""Per-student extensions: the rules of courses/deadlines.py, who may grant and see them (instructor,
TA, staff, the owner, a peer, an outsider), and what the student reads."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from catalog.models import CourseExercise
from courses import deadlines
from courses.models import Enrollment, Extension
from courses.services import enrollment_create, extension_grant

pytestmark = pytest.mark.usefixtures("enqueued")
URL = reverse("courses:extensions", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"})


@pytest.fixture
def due(world):
    """The exercise due in two days, late submissions for one more day at 10 % + 20 %/day, 3 attempts."""
    now = timezone.now().replace(microsecond=0)
    CourseExercise.objects.filter(pk=world.ce.pk).update(
        deadline=now + timedelta(days=2), late_deadline=now + timedelta(days=3), late_penalty=0.1,
        late_penalty_per_day=0.2, max_submissions=3)
    world.ce.refresh_from_db()
    world.ta = user_create(username="assistant", password="correct horse battery")
    enrollment_create(user=world.ta, course=world.course, role=Enrollment.Role.TA)
    world.now = now
    return world


def test_an_extension_moves_the_deadline_and_the_cutoff_and_adds_attempts(due):
    w, ce = due, due.ce
    assert deadlines.effective_deadline(course_exercise=ce, user=w.owner) == ce.deadline
    assert deadlines.attempts_allowed(course_exercise=ce, user=w.owner) == 3
    extension_grant(course_exercise=ce, user=w.owner, reason="illness", deadline=ce.deadline + timedelta(days=4),
                    extra_attempts=2, granted_by=w.instructor)
    assert deadlines.effective_deadline(course_exercise=ce, user=w.owner) == ce.deadline + timedelta(days=4)
    assert deadlines.effective_late_deadline(course_exercise=ce, user=w.owner) == ce.late_deadline + timedelta(days=4)
    assert deadlines.submission_cutoff(course_exercise=ce, user=w.owner) == ce.late_deadline + timedelta(days=4)
    assert deadlines.attempts_allowed(course_exercise=ce, user=w.owner) == 5
    # the peer keeps the exercise's own
    assert deadlines.effective_deadline(course_exercise=ce, user=w.peer) == ce.deadline
    assert deadlines.attempts_allowed(course_exercise=ce, user=w.peer) == 3
    # lateness and the late penalty count from the student's deadline
    at = ce.deadline + timedelta(days=1)
    assert deadlines.is_late(course_exercise=ce, user=w.peer, at=at)
    assert not deadlines.is_late(course_exercise=ce, user=w.owner, at=at)
    assert deadlines.late_penalty_fraction(course_exercise=ce, user=w.owner, submitted_at=at) == 0
    assert deadlines.late_penalty_fraction(course_exercise=ce, user=w.peer, submitted_at=at) == pytest.approx(0.3)
    later = ce.deadline + timedelta(days=4, hours=30)  # 30 hours after the owner's deadline: 2 started days
    assert deadlines.late_penalty_fraction(course_exercise=ce, user=w.owner, submitted_at=later) == pytest.approx(0.5)
    # no total limit: unlimited whatever the extension; no cutoff without a late deadline: the deadline
    CourseExercise.objects.filter(pk=ce.pk).update(max_submissions=None, late_deadline=None)
    ce.refresh_from_db()
    assert deadlines.attempts_allowed(course_exercise=ce, user=w.owner) is None
    assert deadlines.submission_cutoff(course_exercise=ce, user=w.owner) == ce.deadline + timedelta(days=4)


def test_an_extension_never_shortens_a_deadline(due):
    ce = due.ce
    ext = Extension(course_exercise=ce, user=due.owner, deadline=ce.deadline - timedelta(days=1), reason="x")
    assert deadlines.effective_deadline(course_exercise=ce, extension=ext) == ce.deadline
    assert deadlines.effective_late_deadline(course_exercise=ce, extension=ext) == ce.late_deadline


@pytest.mark.parametrize("kwargs, field, message", [
    ({"reason": " "}, "reason", "Give a reason"),
    ({"deadline_days": -1}, "deadline", "after the exercise's deadline"),
    ({"deadline_days": None, "extra_attempts": 0}, "deadline", "Give a new deadline, extra attempts, or both"),
    ({"user": "ta"}, "user", "for the course's students"),
    ({"user": "outsider"}, "user", "for the course's students"),
])
def test_a_bad_extension_is_refused(due, kwargs, field, message):
    from django.core.exceptions import ValidationError

    days = kwargs.pop("deadline_days", 1)
    args = {"course_exercise": due.ce, "user": getattr(due, kwargs.pop("user", "owner")), "reason": "illness",
            "deadline": None if days is None else due.ce.deadline + timedelta(days=days), **kwargs}
    with pytest.raises(ValidationError) as exc:
        extension_grant(**args)
    assert any(message in m for m in exc.value.message_dict[field])
    assert not Extension.objects.exists()


def test_extra_attempts_need_a_limit_and_a_deadline_needs_a_deadline(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="no submission limit"):
        extension_grant(course_exercise=world.ce, user=world.owner, reason="r", extra_attempts=1)
    with pytest.raises(ValidationError, match="no deadline to extend"):
        extension_grant(course_exercise=world.ce, user=world.owner, reason="r", deadline=timezone.now())


def _grant(client, w, **fields):
    data = {"student": str(w.owner.pk), "deadline": "", "extra_attempts": "0", "reason": "illness", **fields}
    return client.post(URL, data)


def test_who_sees_and_grants_extensions(client, due):
    w = due
    new = timezone.localtime(w.ce.deadline + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    for user in (w.owner, w.peer, w.outsider):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert _grant(client, w, deadline=new).status_code == 404
    client.force_login(w.ta)
    assert _grant(client, w, deadline=new).status_code == 403
    assert not Extension.objects.exists()
    client.force_login(w.instructor)
    response = _grant(client, w, deadline=new, extra_attempts="2", reason="<script>alert(1)</script> flu")
    assert response.status_code == 302
    ext = Extension.objects.get()
    assert (ext.user, ext.extra_attempts, ext.granted_by) == (w.owner, 2, w.instructor)
    assert timezone.localtime(ext.deadline).strftime("%Y-%m-%dT%H:%M") == new
    # granting again replaces it
    assert _grant(client, w, extra_attempts="1", reason="flu").status_code == 302
    ext = Extension.objects.get()
    assert (ext.deadline, ext.extra_attempts) == (None, 1)
    _grant(client, w, deadline=new, extra_attempts="2", reason="<script>alert(1)</script> flu")
    # a TA sees them (no revoke button, no form); a TA cannot revoke
    client.force_login(w.ta)
    html = client.get(URL).content.decode()
    assert "owner" in html and "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Grant an extension" not in html and "Revoke" not in html
    revoke = reverse("courses:extension_revoke", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam",
                                                         "extension_id": Extension.objects.get().pk})
    assert client.post(revoke).status_code == 403 and Extension.objects.exists()
    # the form refuses a student of no course of this one's, and a bad value, with a 400
    client.force_login(w.instructor)
    assert _grant(client, w, student=str(w.outsider.pk), extra_attempts="1").status_code == 400
    assert _grant(client, w, student=str(w.ta.pk), extra_attempts="1").status_code == 400
    bad = _grant(client, w, deadline=timezone.localtime(w.ce.deadline - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert bad.status_code == 400 and "after the exercise" in bad.content.decode()
    assert client.post(revoke).status_code == 302 and not Extension.objects.exists()


def test_the_student_sees_their_extension_and_a_peer_does_not(client, due):
    w = due
    extension_grant(course_exercise=w.ce, user=w.owner, reason="Documented <b>illness</b>",
                    deadline=w.ce.deadline + timedelta(days=4), extra_attempts=2)
    client.force_login(w.owner)
    response = client.get("/courses/dgm/")
    html = response.content.decode()
    row = response.context["rows"][0]
    assert row["due"] == w.ce.deadline + timedelta(days=4) and row["attempts"] == 5
    assert 'id="extension-vae-reparam"' in html and "Documented &lt;b&gt;illness&lt;/b&gt;" in html
    assert "2 extra submissions (5 in all)" in html
    assert timezone.localtime(row["due"]).strftime("%a %-d %b %Y") in html
    assert response.context["due_next"][0]["due"] == row["due"]
    client.force_login(w.peer)
    html = client.get("/courses/dgm/").content.decode()
    assert "illness" not in html and 'id="extension-vae-reparam"' not in html
