"""Course roles on the instructor pages (courses/permissions.py): for every page, the instructor
(manages), a teaching assistant (sees and regrades, changes nothing), site staff (manage every course),
the course's students (the owner of a submission and a peer), another course's instructor and an
outsider; plus creating a course, adding exercises by title and the roster's rules."""
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from catalog.models import CourseExercise
from courses.models import Course, Enrollment
from courses.services import course_create, enrollment_create
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")
EX = {"slug": "dgm", "exercise_slug": "vae-reparam"}


@pytest.fixture
def people(world):
    world.ta = user_create(username="assistant", password="correct horse battery", email="ta@example.org")
    enrollment_create(user=world.ta, course=world.course, role=Enrollment.Role.TA)
    world.staff = user_create(username="operator", password="correct horse battery")
    world.staff.is_staff = True
    world.staff.save()
    world.other_instructor = user_create(username="other-teacher", password="correct horse battery")
    course_create(slug="other", title="Other", instructor=world.other_instructor)
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=13.0, visible_score=13.0, max_score=13.0,
                                                result={"status": "graded", "score": 13.0, "max_score": 13.0,
                                                        "tests": []}, finished_at=timezone.now())
    world.sub = sub
    return world


def grade_views(w):
    """Pages a TA may use: (method, url, status for course staff)."""
    return [
        ("get", "/courses/dgm/dashboard/", 200),
        ("get", reverse("courses:roster", kwargs={"slug": "dgm"}), 200),
        ("get", reverse("courses:grades_csv", kwargs={"slug": "dgm"}), 200),
        ("get", reverse("courses:exercise_dashboard", kwargs=EX), 200),
        ("post", reverse("courses:exercise_regrade_all", kwargs=EX), 302),
        ("post", reverse("courses:submission_regrade", kwargs={"submission_id": w.sub.pk}), 302),
    ]


def manage_views(w):
    """Pages only those who manage the course may use."""
    teacher = Enrollment.objects.get(user=w.instructor, course=w.course)
    return [
        ("get", reverse("courses:enrol_csv", kwargs={"slug": "dgm"}), 200),
        ("post", reverse("courses:invite_rotate", kwargs={"slug": "dgm"}), 302),
        ("post", reverse("courses:leaderboard_pseudonyms", kwargs={"slug": "dgm"}), 302),
        ("get", reverse("courses:exercise_settings", kwargs=EX), 200),
        ("post", reverse("courses:exercise_settings", kwargs=EX), 400),
        ("post", reverse("courses:exercise_add", kwargs={"slug": "dgm"}), 302),
        ("post", reverse("courses:roster_add", kwargs={"slug": "dgm"}), 302),
        ("post", reverse("courses:roster_change", kwargs={"slug": "dgm", "enrollment_id": teacher.pk}), 302),
    ]


def _call(client, method, url, data=None):
    return getattr(client, method)(url, data or {})


def test_students_other_instructors_and_outsiders_get_404_everywhere(client, people):
    w = people
    for user in (w.owner, w.peer, w.other_instructor, w.outsider):
        client.force_login(user)
        for method, url, _ in grade_views(w) + manage_views(w):
            assert _call(client, method, url).status_code == 404, (user.username, url)
    client.logout()
    for method, url, _ in grade_views(w) + manage_views(w):
        response = _call(client, method, url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_a_ta_sees_and_regrades_but_changes_nothing(client, people):
    w = people
    client.force_login(w.ta)
    for method, url, expected in grade_views(w):
        assert _call(client, method, url).status_code == expected, url
    code = Course.objects.get(pk=w.course.pk).invite_code
    roles = dict(Enrollment.objects.values_list("user__username", "role"))
    for method, url, _ in manage_views(w):
        assert _call(client, method, url, {"role": "student", "enabled": "1", "exercise": "vae-elbo",
                                           "points": "5", "username": "assistant", "email": "ta@example.org"}
                     ).status_code == 403, url
    course = Course.objects.get(pk=w.course.pk)
    assert course.invite_code == code and not course.leaderboard_pseudonyms
    assert dict(Enrollment.objects.values_list("user__username", "role")) == roles
    assert CourseExercise.objects.filter(course=w.course).count() == 1
    # the TA sees every student's submission, and the dashboard without the controls that change things
    html = client.get("/courses/dgm/dashboard/").content.decode()
    assert w.course.invite_code not in html and "Rotate invite code" not in html and "Add an exercise" not in html
    assert "teaching assistant" in html
    exercise_page = client.get(reverse("courses:exercise_dashboard", kwargs=EX)).content.decode()
    assert reverse("courses:exercise_settings", kwargs=EX) not in exercise_page


def test_the_course_page_links_a_ta_to_the_dashboard(client, people):
    client.force_login(people.ta)
    html = client.get("/courses/dgm/").content.decode()
    assert 'href="/courses/dgm/dashboard/"' in html and people.course.invite_code not in html


@pytest.mark.parametrize("who", ["instructor", "staff"])
def test_instructors_and_site_staff_use_every_page(client, people, who):
    w = people
    client.force_login(getattr(w, who))
    for method, url, expected in grade_views(w) + manage_views(w):
        assert _call(client, method, url).status_code == expected, url


def test_creating_a_course_instructors_and_staff_only(client, people):
    w = people
    url = reverse("courses:course_new")
    for user in (w.owner, w.ta, w.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"title": "Mine", "slug": "mine"}).status_code == 403
        assert 'href="/instructor/new/"' not in client.get("/").content.decode()
    assert not Course.objects.filter(slug="mine").exists()
    client.force_login(w.instructor)
    assert 'href="/instructor/new/"' in client.get("/").content.decode()
    response = client.post(url, {"title": "Flows <b>2027</b>", "slug": "flows-2027", "description": "d"})
    assert response.status_code == 302 and response["Location"] == "/courses/flows-2027/dashboard/"
    course = Course.objects.get(slug="flows-2027")
    assert Enrollment.objects.get(course=course).user == w.instructor
    assert Enrollment.objects.get(course=course).role == "instructor"
    assert "Flows &lt;b&gt;2027&lt;/b&gt;" in client.get("/courses/flows-2027/dashboard/").content.decode()
    for slug, message in (("flows-2027", "already uses"), ("join", "reserved"), ("bad slug!", "valid")):
        response = client.post(url, {"title": "X", "slug": slug})
        assert response.status_code == 400 and message in response.content.decode(), slug
    client.force_login(w.staff)  # staff need no course of their own
    assert client.post(url, {"title": "Ops", "slug": "ops"}).status_code == 302
    assert Enrollment.objects.get(course__slug="ops").user == w.staff


def test_adding_an_exercise_from_the_catalogue_by_title(client, people):
    from catalog.services import exercise_sync

    w = people
    exercise_sync(slug="vae-elbo")
    client.force_login(w.instructor)
    html = client.get("/courses/dgm/dashboard/").content.decode()
    elbo_title = CourseExercise._meta.apps.get_model("catalog", "Exercise").objects.get(
        slug="vae-elbo").current_version.title
    reparam_title = w.exercise.current_version.title
    assert f'<option value="vae-elbo">{elbo_title}</option>' in html
    assert 'value="vae-reparam"' not in html  # already in the course
    assert f">{reparam_title}</a>" in html  # the course's exercises by title
    response = client.post(reverse("courses:exercise_add", kwargs={"slug": "dgm"}),
                           {"exercise": "vae-elbo", "points": "5", "deadline": "2030-01-15T17:00"}, follow=True)
    assert response.redirect_chain[-1][0] == "/courses/dgm/dashboard/" and "unpublished" in response.content.decode()
    ce = CourseExercise.objects.get(course=w.course, exercise__slug="vae-elbo")
    assert (ce.points, ce.published, ce.deadline.isoformat()) == (5, False, "2030-01-15T17:00:00+00:00")
    client.force_login(w.owner)  # unpublished: the students do not see it yet
    assert elbo_title not in client.get("/courses/dgm/").content.decode()
    client.force_login(w.instructor)
    again = client.post(reverse("courses:exercise_add", kwargs={"slug": "dgm"}),
                        {"exercise": "vae-elbo", "points": "5"}, follow=True)
    assert "Select a valid choice" in again.content.decode()
    assert CourseExercise.objects.filter(course=w.course).count() == 2
    bad = client.post(reverse("courses:exercise_add", kwargs={"slug": "dgm"}),
                      {"exercise": "no-such", "points": "5"}, follow=True)
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_roster_adds_staff_by_username_and_email_and_keeps_an_instructor(client, people):
    w = people
    w.outsider.email = "out@example.org"
    w.outsider.save()
    client.force_login(w.instructor)
    add = reverse("courses:roster_add", kwargs={"slug": "dgm"})
    # a wrong pair and an unknown username read the same: the page does not tell which usernames exist
    wrong = client.post(add, {"username": "outsider", "email": "x@example.org", "role": "ta"}, follow=True)
    unknown = client.post(add, {"username": "nobody", "email": "x@example.org", "role": "ta"}, follow=True)
    messages = [[str(m) for m in r.context["messages"]] for r in (wrong, unknown)]
    assert messages[0] == messages[1] and "No account has this username and e-mail" in messages[0][0]
    assert not Enrollment.objects.filter(user=w.outsider).exists()
    client.post(add, {"username": "OUTSIDER", "email": "Out@Example.org", "role": "instructor"})
    assert Enrollment.objects.get(user=w.outsider, course=w.course).role == "instructor"
    # promote a student to TA; demote the co-instructor; remove a student
    owner = Enrollment.objects.get(user=w.owner, course=w.course)
    change = lambda e, **data: client.post(reverse("courses:roster_change",  # noqa: E731
                                                   kwargs={"slug": "dgm", "enrollment_id": e.pk}), data)
    change(owner, role="ta")
    assert Enrollment.objects.get(pk=owner.pk).role == "ta"
    change(Enrollment.objects.get(user=w.outsider, course=w.course), remove="1")
    assert not Enrollment.objects.filter(user=w.outsider, course=w.course).exists()
    # the last instructor can be neither demoted nor removed
    teacher = Enrollment.objects.get(user=w.instructor, course=w.course)
    response = change(teacher, role="student")
    assert response.status_code == 302 and Enrollment.objects.get(pk=teacher.pk).role == "instructor"
    change(teacher, remove="1")
    assert Enrollment.objects.filter(pk=teacher.pk).exists()
    page = client.get(reverse("courses:roster", kwargs={"slug": "dgm"}))
    assert "at least one instructor" in page.content.decode()
    # an enrolment of another course cannot be reached through this one
    other = Enrollment.objects.get(course__slug="other")
    assert client.post(reverse("courses:roster_change", kwargs={"slug": "dgm", "enrollment_id": other.pk}),
                       {"role": "student"}).status_code == 404
    assert Enrollment.objects.get(pk=other.pk).role == "instructor"
    html = page.content.decode()
    assert "assistant" in html and "Teaching assistant" in html
