"""The instructor's pages: CSV enrolment, invite code, exercise settings, dashboard, regrades and
the grade export; each with the owner (the course's instructor), peers (a student of the course,
an instructor of another course) and an outsider."""
import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from catalog.models import CourseExercise
from courses.models import Enrollment
from courses.services import course_create
from grader.sandbox.local import TrustedSubprocessRunner
from submissions import tasks
from submissions.models import Submission
from submissions.selectors import result_for_viewer
from submissions.services import (
    submission_attempts_used,
    submission_claim,
    submission_create,
    submission_grade,
    submission_regrade,
)

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


@pytest.fixture
def other_instructor(world):
    """A peer: the instructor of another course."""
    user = user_create(username="other-teacher", password="correct horse battery")
    course_create(slug="other", title="Other", instructor=user)
    return user


def _graded(world, user, *, score, tests=None, created_at=None, is_late=False):
    sub = submission_create(user=user, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    tests = tests if tests is not None else [{"name": "mean", "title": "Mean", "status": "passed", "score": 2,
                                              "max_score": 2, "visibility": "visible"}]
    Submission.objects.filter(pk=sub.pk).update(
        status="graded", score=score, visible_score=score, max_score=13.0, is_late=is_late,
        result={"status": "graded", "score": score, "max_score": 13.0, "tests": tests},
        finished_at=timezone.now(), **({"created_at": created_at} if created_at else {}))
    sub.refresh_from_db()
    return sub


def _views(world):
    sub = _graded(world, world.owner, score=13.0)
    ex = {"slug": "dgm", "exercise_slug": "vae-reparam"}
    return [
        ("get", reverse("courses:enrol_csv", kwargs={"slug": "dgm"}), 200),
        ("post", reverse("courses:invite_rotate", kwargs={"slug": "dgm"}), 302),
        ("get", reverse("courses:grades_csv", kwargs={"slug": "dgm"}), 200),
        ("get", reverse("courses:exercise_dashboard", kwargs=ex), 200),
        ("get", reverse("courses:exercise_settings", kwargs=ex), 200),
        ("post", reverse("courses:exercise_settings", kwargs=ex), 400),  # an empty form: errors, nothing saved
        ("post", reverse("courses:exercise_regrade_all", kwargs=ex), 302),
        ("post", reverse("courses:submission_regrade", kwargs={"submission_id": sub.pk}), 302),
    ]


def test_every_instructor_view_owner_peers_outsider(client, world, other_instructor):
    views = _views(world)
    for method, url, _ in views:
        client.logout()
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    for user in (world.owner, world.peer, other_instructor, world.outsider):
        client.force_login(user)
        for method, url, _ in views:
            assert getattr(client, method)(url).status_code == 404, (user.username, url)
    code = world.course.invite_code
    client.force_login(world.instructor)
    for method, url, expected in views:
        assert getattr(client, method)(url).status_code == expected, url
    world.course.refresh_from_db()
    assert world.course.invite_code != code  # only the instructor's own request rotated it


def test_get_is_refused_where_a_post_is_needed(client, world):
    client.force_login(world.instructor)
    assert client.get(reverse("courses:invite_rotate", kwargs={"slug": "dgm"})).status_code == 405
    assert client.get(reverse("courses:exercise_regrade_all",
                              kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"})).status_code == 405


def test_dashboard_links_and_the_stable_url_names(client, world):
    client.force_login(world.instructor)
    html = client.get("/courses/dgm/dashboard/").content.decode()
    assert "Export grades (CSV)" in html and reverse("courses:grades_csv", kwargs={"slug": "dgm"}) in html
    settings_url = reverse("courses:exercise_settings", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"})
    assert settings_url in html and world.course.invite_code in html
    form = client.get(settings_url).content.decode()
    assert 'type="datetime-local" name="deadline"' in form


def _upload(client, text, name="students.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("courses:enrol_csv", kwargs={"slug": "dgm"}),
                       {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def test_csv_enrolment_creates_accounts_links_existing_and_shows_passwords_once(client, world):
    # an account is linked only when its e-mail address matches the line (never one without an address)
    for user, email in ((world.outsider, "out@example.org"), (world.owner, "owner@example.org"),
                        (world.instructor, "t@example.org")):
        user.email = email
        user.save()
    client.force_login(world.instructor)
    response = _upload(client, "username,email,name\nada,ada@example.org,Ada Lovelace\n"
                               "alan,alan@example.org\noutsider,OUT@example.org,\nowner,owner@example.org\n"
                               "teacher,t@example.org\n")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    rows = {r.username: r for r in response.context["enrolled"]}
    assert rows["ada"].created and rows["alan"].created and not rows["outsider"].created
    assert rows["owner"].already_enrolled and rows["outsider"].password is None
    html = response.content.decode()
    assert rows["ada"].password in html and rows["alan"].password in html
    ada = User.objects.get(username="ada")
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.org")
    assert ada.check_password(rows["ada"].password) and rows["ada"].password not in ada.password
    roles = dict(Enrollment.objects.filter(course=world.course).values_list("user__username", "role"))
    assert roles["ada"] == roles["alan"] == roles["outsider"] == roles["owner"] == "student"
    assert roles["teacher"] == "instructor"  # listed in the file, still the course's instructor
    assert User.objects.get(username="ada").must_change_password  # the one-time password is replaced at login
    # the new student logs in with the one-time password; the password is not shown again anywhere
    client.logout()
    assert client.post("/login/", {"username": "ada", "password": rows["ada"].password}).status_code == 302
    client.force_login(world.instructor)
    assert rows["ada"].password not in client.get(reverse("courses:enrol_csv", kwargs={"slug": "dgm"})).content.decode()


@pytest.mark.parametrize("text, message", [
    ("ada,ada@example.org\nbob,not-an-email\n", "line 2: 'not-an-email' is not a valid email address"),
    ("ada,ada@example.org\nbad user!,b@example.org\n", "line 2: 'bad user!' is not a valid username"),
    ("ada,ada@example.org\nada,other@example.org\n", "line 2: username 'ada' repeats line 1"),
    ("ada,ada@example.org\nonly-one-field\n", "line 2: expected username,email[,name], got 1 fields"),
    ("ada,ada@example.org\nowner,someone-else@example.org\n", "line 2: this username and e-mail address cannot"),
    ("ada,ada@example.org\nzed,peer@example.org\n", "line 2: this username and e-mail address cannot"),
    ("", "The submitted file is empty"),
    ("\n\n", "The file has no rows"),
    ("ada,ada@example.org\n\xff", None),
])
def test_a_bad_csv_gets_a_clear_error_and_stores_nothing(client, world, text, message):
    for user, email in ((world.owner, "owner@example.org"), (world.peer, "peer@example.org")):
        user.email = email
        user.save()
    users, enrolments = User.objects.count(), Enrollment.objects.count()
    client.force_login(world.instructor)
    if message is None:  # not UTF-8
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = client.post(reverse("courses:enrol_csv", kwargs={"slug": "dgm"}),
                               {"file": SimpleUploadedFile("s.csv", b"ada,ada@example.org\n\xff\xfe")})
        message = "not UTF-8"
    else:
        response = _upload(client, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was stored" in html
    assert message.replace("'", "&#x27;") in html
    assert User.objects.count() == users and Enrollment.objects.count() == enrolments
    assert not User.objects.filter(username="ada").exists()


def test_rotating_the_invite_code_retires_the_old_one(client, world):
    old = world.course.invite_code
    client.force_login(world.instructor)
    client.post(reverse("courses:invite_rotate", kwargs={"slug": "dgm"}))
    world.course.refresh_from_db()
    assert world.course.invite_code != old
    client.force_login(world.outsider)
    client.post("/courses/join/", {"invite_code": old})
    assert not Enrollment.objects.filter(user=world.outsider).exists()
    client.post("/courses/join/", {"invite_code": world.course.invite_code})
    assert Enrollment.objects.filter(user=world.outsider, course=world.course, role="student").exists()


def _settings_post(client, **fields):
    data = {"deadline": "", "late_deadline": "", "late_penalty_percent": "0", "late_penalty_per_day_percent": "0",
            "max_submissions": "", "max_submissions_per_day": "", "points": "10", "published": "on", **fields}
    return client.post(reverse("courses:exercise_settings", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"}),
                       data)


def test_settings_form_saves_deadline_late_policy_limits_and_visibility(client, world):
    client.force_login(world.instructor)
    response = _settings_post(client, deadline="2030-01-15T17:00", late_deadline="2030-01-18T17:00",
                              late_penalty_percent="10", late_penalty_per_day_percent="5", max_submissions="20",
                              max_submissions_per_day="3", points="12", visibility__mean="hidden")
    assert response.status_code == 302
    ce = CourseExercise.objects.get(pk=world.ce.pk)
    assert ce.deadline.isoformat() == "2030-01-15T17:00:00+00:00"
    assert ce.late_deadline.isoformat() == "2030-01-18T17:00:00+00:00"
    assert (ce.late_penalty, ce.late_penalty_per_day) == (pytest.approx(0.10), pytest.approx(0.05))
    assert (ce.max_submissions, ce.max_submissions_per_day, ce.points) == (20, 3, 12)
    assert ce.check_visibility == {"mean": "hidden"}  # only what differs from the exercise's own
    form = client.get(reverse("courses:exercise_settings", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"}))
    assert 'value="2030-01-15T17:00"' in form.content.decode()


def test_settings_form_refuses_bad_values_and_saves_nothing(client, world):
    client.force_login(world.instructor)
    before = CourseExercise.objects.filter(pk=world.ce.pk).values().get()
    for fields, message in (
            ({"deadline": "2030-01-15T17:00", "late_deadline": "2030-01-14T17:00"}, "before the deadline"),
            ({"late_deadline": "2030-01-14T17:00"}, "Set a deadline before a late cutoff"),
            ({"late_penalty_percent": "150"}, "less than or equal to 100"),
            ({"max_submissions_per_day": "0"}, "greater than or equal to 1"),
            ({"deadline": "tomorrow"}, "Enter a valid date/time"),
            ({"visibility__mean": "secret"}, "Select a valid choice")):
        response = _settings_post(client, **fields)
        assert response.status_code == 400 and message in response.content.decode(), fields
    assert CourseExercise.objects.filter(pk=world.ce.pk).values().get() == before


def test_a_visibility_override_hides_a_check_and_recomputes_visible_scores(client, world):
    tests = [{"name": "mean", "title": "Mean", "status": "passed", "score": 2, "max_score": 2, "visibility": "visible"},
             {"name": "gradients", "title": "Gradients", "status": "passed", "score": 2, "max_score": 2,
              "visibility": "visible"}]
    sub = _graded(world, world.owner, score=4.0, tests=tests)
    client.force_login(world.instructor)
    assert _settings_post(client, visibility__mean="hidden").status_code == 302
    sub.refresh_from_db()
    assert sub.visible_score == 2.0
    ce = CourseExercise.objects.get(pk=world.ce.pk)
    shown = result_for_viewer(result=sub.result, course_exercise=ce, full=False)
    assert [t["title"] for t in shown["tests"]] == ["Hidden check", "Gradients"] and shown["score"] == 2.0
    client.force_login(world.owner)
    api = client.get(f"/api/submissions/{sub.pk}/").json()["result"]
    assert "Mean" not in str(api) and api["hidden_points"] == 2


def test_per_day_and_total_limits_are_enforced_on_the_server_and_infra_errors_are_free(client, world):
    from django.core.exceptions import ValidationError

    CourseExercise.objects.filter(pk=world.ce.pk).update(max_submissions_per_day=2, max_submissions=3)
    world.ce.refresh_from_db()
    first = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=first.pk).update(status="infrastructure_error")  # not charged
    for _ in range(2):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    with pytest.raises(ValidationError, match="all 2 submissions for today"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/submissions/", {"exercise": "vae-reparam",
                                                 "file": SimpleUploadedFile("a.py", SOLUTION)},
                           HTTP_AUTHORIZATION=f"Token {world.tokens['owner']}")
    assert response.status_code == 400 and "for today" in response.json()["error"]
    # tomorrow: the day's limit is fresh, the total is not
    tomorrow = timezone.now() + timedelta(days=1)
    submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION, now=tomorrow)
    with pytest.raises(ValidationError, match="all 3 submissions for this exercise"):
        submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION, now=tomorrow)
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 3
    # the instructor is never limited
    submission_create(user=world.instructor, course_exercise=world.ce, filename="a.py", data=SOLUTION)


def test_exercise_dashboard_counts_pass_rates_and_most_failed_checks(client, world):
    def t(name, status):
        return {"name": name, "title": name.title(), "status": status, "score": 2 if status == "passed" else 0,
                "max_score": 2, "visibility": "visible"}

    _graded(world, world.owner, score=2.0, tests=[t("mean", "failed"), t("gradients", "failed")])
    _graded(world, world.owner, score=4.0, tests=[t("mean", "passed"), t("gradients", "failed")])
    _graded(world, world.peer, score=2.0, tests=[t("mean", "passed"), t("gradients", "error")])
    submission_create(user=world.peer, course_exercise=world.ce, filename="b.py", data=SOLUTION)  # queued
    client.force_login(world.instructor)
    response = client.get(reverse("courses:exercise_dashboard", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"}))
    stats = response.context["stats"]
    assert (stats["submissions"], stats["students"], stats["finished"], stats["pending"]) == (4, 2, 3, 1)
    checks = {c["name"]: c for c in stats["checks"]}
    assert checks["mean"]["pass_rate"] == pytest.approx(2 / 3) and checks["gradients"]["pass_rate"] == 0
    assert checks["shape_and_dtype"]["graded"] == 0  # a check of the exercise nobody's result has yet
    assert [c["name"] for c in stats["most_failed"]] == ["gradients", "mean"]
    html = response.content.decode()
    assert "67%" in html and "failed 3 of 3" in html
    for sub in Submission.objects.all():  # every student's submission is linked and opens for the instructor
        assert f'href="/submissions/{sub.pk}/"' in html
        assert client.get(f"/submissions/{sub.pk}/").status_code == 200


def test_regrade_keeps_the_earlier_result_and_records_provenance(client, world, enqueued, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    sub = _graded(world, world.owner, score=5.0)
    client.force_login(world.instructor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("courses:submission_regrade", kwargs={"submission_id": sub.pk}))
    assert response.status_code == 302 and response["Location"] == f"/submissions/{sub.pk}/"
    sub.refresh_from_db()
    assert sub.status == "queued" and sub.result is None
    assert enqueued[-1] == (sub.pk, "quick", None)  # enqueued like a normal grading
    assert len(sub.history) == 1 and sub.history[0]["score"] == 5.0
    assert sub.history[0]["regraded_by"] == "teacher"
    # a pending submission is not regraded twice
    assert not submission_regrade(submission=sub, requested_by=world.instructor)
    monkeypatch.setattr(tasks, "sandbox_for_queue", lambda queue: TrustedSubprocessRunner())
    assert tasks.grade_submission.run(sub.pk) == "graded"
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == 14.0
    regrade = sub.result["provenance"]["regrade"]
    assert regrade["number"] == 1 and regrade["previous_score"] == 5.0 and regrade["requested_by"] == "teacher"
    assert sub.result["provenance"]["exercise_version"] == sub.exercise_version.version
    assert Submission.objects.count() == 1  # a regrade is not a new attempt
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 1
    html = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "regraded by teacher" in html


def test_regrade_all_of_an_exercise(client, world, enqueued, django_capture_on_commit_callbacks):
    subs = [_graded(world, world.owner, score=3.0), _graded(world, world.peer, score=4.0)]
    pending = submission_create(user=world.peer, course_exercise=world.ce, filename="c.py", data=SOLUTION)
    client.force_login(world.instructor)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("courses:exercise_regrade_all", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"}))
    assert sorted(pk for pk, _, _ in enqueued) == sorted(s.pk for s in subs)
    assert all(len(Submission.objects.get(pk=s.pk).history) == 1 for s in subs)
    assert Submission.objects.get(pk=pending.pk).history == []


def test_a_regrade_the_platform_cannot_run_keeps_the_earlier_grade(world, enqueued, settings,
                                                                   django_capture_on_commit_callbacks):
    from grader.sandbox import SandboxUnavailable

    class Unavailable:
        name = "x"

        def run(self, job, limits, **_):
            raise SandboxUnavailable("Docker engine not reachable")

    settings.GRADING_INFRA_RETRIES = 0
    sub = _graded(world, world.owner, score=5.0)
    submission_regrade(submission=sub, requested_by=world.instructor)
    token = submission_claim(submission_id=sub.pk, worker="w")
    with django_capture_on_commit_callbacks(execute=True):
        assert submission_grade(submission_id=sub.pk, token=token, sandbox_factory=lambda q: Unavailable()) == "gave_up"
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == 5.0 and sub.history == []
    assert sub.result["score"] == 5.0 and "regrade abandoned" in sub.last_infra_error
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 1


def test_grades_csv_best_points_per_student_with_the_late_policy(client, world):
    now = timezone.now()
    CourseExercise.objects.filter(pk=world.ce.pk).update(deadline=now - timedelta(days=3),
                                                         late_deadline=now + timedelta(days=1), late_penalty=0.1,
                                                         late_penalty_per_day=0.2, points=10)
    world.ce.refresh_from_db()
    _graded(world, world.owner, score=6.5)  # on time: 5.00 points
    _graded(world, world.owner, score=13.0, is_late=True,  # 1.5 days late: 10 * (1 - 0.1 - 2 * 0.2) = 5.00 ...
            created_at=world.ce.deadline + timedelta(hours=36))
    _graded(world, world.owner, score=13.0, is_late=True,  # ... 10 hours late: 10 * (1 - 0.3) = 7.00, the best
            created_at=world.ce.deadline + timedelta(hours=10))
    _graded(world, world.peer, score=13.0, is_late=True, created_at=world.ce.deadline + timedelta(days=10))  # 0
    attack = user_create(username="mallory", password="correct horse battery", first_name="=cmd|' /C calc'!A0")
    Enrollment.objects.create(user=attack, course=world.course, role="student")
    client.force_login(world.instructor)
    response = client.get(reverse("courses:grades_csv", kwargs={"slug": "dgm"}))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="dgm-grades.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["username", "email", "name", "vae-reparam", "total"]
    by_user = {r[0]: r for r in rows[1:]}
    assert set(by_user) == {"owner", "peer", "mallory"}  # students only, one row each
    assert by_user["owner"][3] == "7.00" and by_user["peer"][3] == "0.00" and by_user["mallory"][3] == ""
    assert by_user["mallory"][2].startswith("'=")  # no formula injection into a spreadsheet
