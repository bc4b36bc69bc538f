"""The gradebook page (best points with the late policy from each student's deadline, totals, sorting,
filtering, links), its Canvas and Moodle exports, who may open them, and the per-student statistics of
the exercise dashboard."""
import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from catalog.models import CourseExercise, Exercise
from catalog.services import course_exercise_create, exercise_sync
from courses.models import Enrollment
from courses.services import course_create, enrollment_create, extension_grant
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")
BOOK = reverse("courses:gradebook", kwargs={"slug": "dgm"})


def _graded(ce, user, *, score, created_at=None, status="graded", tests=None):
    sub = submission_create(user=user, course_exercise=ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(
        status=status, score=score, visible_score=score, max_score=13.0, finished_at=timezone.now(),
        result={"status": status, "score": score, "max_score": 13.0, "tests": tests or []},
        **({"created_at": created_at} if created_at else {}))
    return Submission.objects.get(pk=sub.pk)


@pytest.fixture
def book(world):
    """vae-reparam (10 points, deadline 3 days ago, 10 % late + 20 %/day) and vae-elbo (20 points)."""
    w = world
    now = timezone.now()
    CourseExercise.objects.filter(pk=w.ce.pk).update(deadline=now - timedelta(days=3), late_penalty=0.1,
                                                     late_penalty_per_day=0.2, late_deadline=now + timedelta(days=1))
    w.ce.refresh_from_db()
    exercise_sync(slug="vae-elbo")
    w.elbo = course_exercise_create(course=w.course, exercise=Exercise.objects.get(slug="vae-elbo"), points=20)
    w.ada = user_create(username="ada", password="correct horse battery", first_name="Ada", last_name="Lovelace",
                        email="ada@example.org")
    w.mallory = user_create(username="mallory", password="correct horse battery", first_name="=HYPERLINK(1)",
                            last_name="<b>M</b>")
    for user in (w.ada, w.mallory):
        enrollment_create(user=user, course=w.course, role=Enrollment.Role.STUDENT)
    w.ta = user_create(username="assistant", password="correct horse battery")
    enrollment_create(user=w.ta, course=w.course, role=Enrollment.Role.TA)
    d = w.ce.deadline
    w.owner_best = _graded(w.ce, w.owner, score=13.0, created_at=d + timedelta(hours=10))  # 10 h late: 7.00
    _graded(w.ce, w.owner, score=6.5, created_at=d - timedelta(hours=1))  # on time: 5.00
    # the peer was 1.5 days late, but has an extension to 2 days after the deadline: 13 / 13 -> 10.00
    w.peer_best = _graded(w.ce, w.peer, score=13.0, created_at=d + timedelta(hours=36))
    extension_grant(course_exercise=w.ce, user=w.peer, reason="illness", deadline=d + timedelta(days=2))
    w.peer_elbo = _graded(w.elbo, w.peer, score=6.5)  # 10.00 of 20
    _graded(w.ce, w.ada, score=13.0, status="infrastructure_error")  # never counts
    _graded(w.ce, w.instructor, score=13.0)  # staff are not in the gradebook
    return w


def test_best_points_late_policy_from_the_students_deadline_and_totals(client, book):
    w = book
    client.force_login(w.instructor)
    response = client.get(BOOK)
    assert response.status_code == 200
    rows = {r.user.username: r for r in response.context["rows"]}
    assert set(rows) == {"owner", "peer", "ada", "mallory"}
    owner, peer = rows["owner"], rows["peer"]
    assert owner.cells[0].points == pytest.approx(7.0) and owner.cells[0].submission_id == w.owner_best.pk
    assert owner.cells[0].late and owner.cells[0].penalty == pytest.approx(0.3)
    assert peer.cells[0].points == pytest.approx(10.0) and not peer.cells[0].late and peer.cells[0].extension
    assert peer.cells[1].points == pytest.approx(10.0) and peer.total == pytest.approx(20.0)
    assert rows["ada"].cells[0].points is None and rows["ada"].total == 0
    html = response.content.decode()
    for sub in (w.owner_best, w.peer_best, w.peer_elbo):
        assert f'href="/submissions/{sub.pk}/"' in html
    assert w.elbo.exercise.current_version.title in html and "/ 30" in html  # titles and the points possible
    assert "&lt;b&gt;M&lt;/b&gt;" in html and "<b>M</b>" not in html


def test_sorting_and_filtering(client, book):
    client.force_login(book.instructor)

    def names(**params):
        return [r.user.username for r in client.get(BOOK, params).context["rows"]]

    assert names() == ["ada", "mallory", "owner", "peer"]
    assert names(sort="total", order="desc") == ["peer", "owner", "ada", "mallory"]
    assert names(sort="ex0", order="desc")[:2] == ["peer", "owner"]
    assert names(sort="name") == ["mallory", "ada", "owner", "peer"]  # by last name: "<b>M</b>" < "Lovelace"
    assert names(q="LOVE") == ["ada"] and names(q="ada@example") == ["ada"]
    assert names(missing="1") == ["ada", "mallory", "owner"]  # no grade for vae-elbo
    assert names(sort="nonsense", missing="x", q="") == ["ada", "mallory", "owner", "peer"]
    html = client.get(BOOK, {"sort": "total", "order": "desc"}).content.decode()
    assert 'aria-sort="descending"' in html and "sort=total&amp;order=asc" in html


def test_canvas_and_moodle_exports(client, book):
    client.force_login(book.ta)
    canvas = client.get(reverse("courses:gradebook_csv", kwargs={"slug": "dgm", "flavour": "canvas"}))
    assert canvas.status_code == 200 and canvas["Content-Type"].startswith("text/csv")
    assert 'filename="dgm-gradebook-canvas.csv"' in canvas["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(canvas.content.decode())))
    reparam, elbo = (ce.exercise.current_version.title for ce in (book.ce, book.elbo))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{reparam} (vae-reparam)",
                       f"{elbo} (vae-elbo)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10.00", "20.00"]
    by_login = {r[3]: r for r in rows[2:]}
    assert by_login["ada"][0] == "Lovelace, Ada" and by_login["ada"][5:] == ["", ""]
    assert by_login["owner"][5:] == ["7.00", ""] and by_login["peer"][5:] == ["10.00", "10.00"]
    assert by_login["mallory"][0].startswith("<b>M</b>, ")  # text, never a formula
    moodle = client.get(reverse("courses:gradebook_csv", kwargs={"slug": "dgm", "flavour": "moodle"}))
    rows = list(csv.reader(io.StringIO(moodle.content.decode())))
    assert rows[0][:4] == ["Username", "Email address", "First name", "Last name"]
    by_user = {r[0]: r for r in rows[1:]}
    assert by_user["ada"][1:4] == ["ada@example.org", "Ada", "Lovelace"]
    assert by_user["mallory"][2] == "'=HYPERLINK(1)" and by_user["peer"][4:] == ["10.00", "10.00"]
    assert client.get(reverse("courses:gradebook_csv", kwargs={"slug": "dgm", "flavour": "excel"})).status_code == 404


def test_who_may_open_the_gradebook(client, book):
    other = user_create(username="other-teacher", password="correct horse battery")
    course_create(slug="other", title="Other", instructor=other)
    staff = user_create(username="operator", password="correct horse battery")
    staff.is_staff = True
    staff.save()
    urls = [BOOK, reverse("courses:gradebook_csv", kwargs={"slug": "dgm", "flavour": "canvas"})]
    for user, expected in ((book.owner, 404), (book.peer, 404), (other, 404), (book.outsider, 404),
                           (book.ta, 200), (book.instructor, 200), (staff, 200)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == expected, (user.username, url)
    client.logout()
    assert client.get(BOOK)["Location"].startswith("/login/")


def test_exercise_dashboard_counts_per_student_as_well_as_per_submission(client, book):
    def t(name, status):
        return {"name": name, "title": name, "status": status, "score": 0, "max_score": 2, "visibility": "visible"}

    w = book
    _graded(w.elbo, w.owner, score=1.0, tests=[t("mean", "passed"), t("kl", "failed")])
    _graded(w.elbo, w.owner, score=1.0, tests=[t("mean", "passed"), t("kl", "failed")])
    _graded(w.elbo, w.owner, score=13.0, tests=[t("mean", "passed"), t("kl", "passed")])
    _graded(w.elbo, w.ada, score=1.0, tests=[t("mean", "failed"), t("kl", "failed")])
    submission_create(user=w.mallory, course_exercise=w.elbo, filename="a.py", data=SOLUTION)  # queued
    client.force_login(w.ta)
    response = client.get(reverse("courses:exercise_dashboard", kwargs={"slug": "dgm", "exercise_slug": "vae-elbo"}))
    per_student = response.context["per_student"]
    assert per_student == {"enrolled": 4, "attempted": 4, "graded": 3, "full_marks": 1,
                           "passed": {"mean": 1, "kl": 1}}  # the peer's earlier grading (no checks) counts as graded
    assert response.context["stats"]["submissions"] == 6
    html = response.content.decode()
    assert "4 of 4 students submitted" in html and "1 with full marks" in html


def test_the_plain_grades_csv_counts_extensions_like_the_gradebook(client, book):
    client.force_login(book.instructor)
    rows = list(csv.reader(io.StringIO(client.get(reverse("courses:grades_csv", kwargs={"slug": "dgm"}))
                                       .content.decode())))
    assert rows[0] == ["username", "email", "name", "vae-reparam", "vae-elbo", "total"]
    by_user = {r[0]: r for r in rows[1:]}
    assert by_user["peer"][3:] == ["10.00", "10.00", "20.00"]  # on time thanks to the extension
    assert by_user["owner"][3:] == ["7.00", "", "7.00"] and by_user["mallory"][2].startswith("'=")
