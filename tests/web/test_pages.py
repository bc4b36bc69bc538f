"""Server-rendered pages: who sees what, Markdown rendered, feedback escaped."""
import pytest

from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def test_login_page_and_login_required(client, world):
    assert client.get("/login/").status_code == 200
    response = client.get("/courses/dgm/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post("/login/", {"username": "owner", "password": "correct horse battery"}).status_code == 302
    assert client.get("/courses/dgm/").status_code == 200


def test_course_pages_owner_peer_outsider(client, world):
    for user, code in ((world.owner, 200), (world.peer, 200), (world.instructor, 200), (world.outsider, 404)):
        client.force_login(user)
        assert client.get("/courses/dgm/").status_code == code
        assert client.get("/courses/dgm/vae-reparam/").status_code == code
        assert client.get("/courses/dgm/vae-reparam/starter.py").status_code == code
    client.force_login(world.owner)
    listing = client.get("/").content.decode()
    assert "/courses/dgm/" in listing
    client.force_login(world.outsider)
    assert "/courses/dgm/" not in client.get("/").content.decode()


def test_exercise_page_renders_the_statement_and_keeps_math(client, world):
    client.force_login(world.owner)
    html = client.get("/courses/dgm/vae-reparam/").content.decode()
    assert "<h1>The reparameterization trick</h1>" in html or "The reparameterization trick" in html
    assert "<h2" in html  # the statement's Markdown headings became HTML
    assert "$" in html  # LaTeX left for client-side KaTeX
    assert "/courses/dgm/vae-reparam/starter.ipynb" in html


def test_starter_downloads(client, world):
    client.force_login(world.owner)
    py = client.get("/courses/dgm/vae-reparam/starter.py")
    assert "def reparameterize" in py.content.decode()
    assert 'filename="vae-reparam-starter.py"' in py["Content-Disposition"]
    nb = client.get("/courses/dgm/vae-reparam/starter.ipynb")
    assert nb.json()["nbformat"] == 4


def test_submission_page_owner_instructor_peer_outsider(client, world):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    for user, code in ((world.owner, 200), (world.instructor, 200), (world.peer, 404), (world.outsider, 404)):
        client.force_login(user)
        assert client.get(f"/submissions/{sub.pk}/").status_code == code
    client.force_login(world.owner)
    html = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert 'id="submission-data"' in html and "/api/submissions/" in html  # the polling script


def test_feedback_is_escaped_and_markdown_rendered(client, world):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    evil = "**Expected** `x`<script>alert(1)</script><img src=x onerror=alert(2)>"
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=0.0, max_score=1.0, result={
        "status": "graded", "score": 0.0, "max_score": 1.0, "output": "<script>bad()</script>",
        "tests": [{"name": "t", "title": "<b>title</b>", "score": 0.0, "max_score": 1.0, "status": "failed",
                   "output": evil, "visibility": "visible"}]})
    client.force_login(world.owner)
    html = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<script>bad()</script>" not in html
    assert "onerror" not in html
    assert "<strong>Expected</strong>" in html and "<code>x</code>" in html
    assert "&lt;b&gt;title&lt;/b&gt;" in html


def test_history_on_the_exercise_page_is_the_users_own(client, world):
    mine = submission_create(user=world.owner, course_exercise=world.ce, filename="mine.py", data=SOLUTION)
    theirs = submission_create(user=world.peer, course_exercise=world.ce, filename="theirs.py", data=SOLUTION)
    client.force_login(world.owner)
    html = client.get("/courses/dgm/vae-reparam/").content.decode()
    assert f"/submissions/{mine.pk}/" in html and f"/submissions/{theirs.pk}/" not in html


def test_dashboard_is_for_instructors_only(client, world):
    submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    client.force_login(world.instructor)
    response = client.get("/courses/dgm/dashboard/")
    assert response.status_code == 200
    assert response.context["counts"][0]["n_submissions"] == 1
    for user in (world.owner, world.outsider):
        client.force_login(user)
        assert client.get("/courses/dgm/dashboard/").status_code == 404


def test_best_score_on_the_course_page(client, world):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=9.0, visible_score=7.0, max_score=13.0)
    client.force_login(world.owner)
    row = client.get("/courses/dgm/").context["rows"][0]
    assert row["best"]["score"] == 7.0  # no deadline passed yet: the visible part only
    assert row["best"]["points"] == pytest.approx(10 * 7 / 13)


def test_late_penalty_and_full_score_after_the_due_date(client, world):
    from datetime import timedelta

    from django.utils import timezone

    world.ce.deadline = timezone.now() - timedelta(hours=1)
    world.ce.late_deadline = timezone.now() + timedelta(hours=1)
    world.ce.late_penalty = 0.25
    world.ce.save()
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="a.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=13.0, visible_score=7.0, max_score=13.0)
    client.force_login(world.owner)
    html = client.get("/courses/dgm/")
    best = html.context["rows"][0]["best"]
    assert best == {"score": 13.0, "points": pytest.approx(7.5)}  # past due: the full score, late: -25 %
    assert "7.50 pts" in html.content.decode()


def test_join_by_invite_code_and_tokens_page(client, world):
    client.force_login(world.outsider)
    response = client.post("/courses/join/", {"invite_code": world.course.invite_code})
    assert response.status_code == 302 and response["Location"] == "/courses/dgm/"
    assert client.get("/courses/dgm/").status_code == 200
    created = client.post("/account/tokens/", {"name": "laptop"}, follow=True).context["created"]
    assert created.startswith("dgm_")
    from accounts.selectors import user_get_by_api_token

    assert user_get_by_api_token(token=created) == world.outsider
