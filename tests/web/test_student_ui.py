"""The student pages: the in-browser editor's form, math kept out of Markdown, feedback markup."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.markdown import markdown_to_safe_html
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def test_the_editor_posts_source_that_becomes_solution_py(client, world, enqueued,
                                                          django_capture_on_commit_callbacks):
    client.force_login(world.owner)
    page = client.get("/courses/dgm/vae-reparam/").content.decode()
    assert 'name="source"' in page and "def reparameterize(mu: Tensor, logvar: Tensor)" in page  # the starter
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/courses/dgm/vae-reparam/submit/",
                               {"source": SOLUTION.decode().replace("\n", "\r\n")})
    sub = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/submissions/{sub.pk}/"
    assert sub.filename == "solution.py" and bytes(sub.data) == SOLUTION  # CRLF from the browser normalised
    assert [pk for pk, *_ in enqueued] == [sub.pk]


def test_an_empty_or_oversized_editor_text_is_refused_and_kept(client, world, settings):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"source": "   \n"})
    assert response.status_code == 400 and "The editor is empty" in response.content.decode()
    settings.SUBMISSION_MAX_BYTES = 100
    response = client.post("/courses/dgm/vae-reparam/submit/", {"source": "x = 1  # mine\n" * 10})
    html = response.content.decode()
    assert response.status_code == 400 and "the limit is 100" in html
    assert "x = 1  # mine" in html  # what they typed is not lost
    assert Submission.objects.count() == 0


def test_the_upload_form_works_with_a_submission_limit(client, world):
    """The limit locks the user's row; request.user is a lazy proxy, not the User class."""
    world.ce.max_submissions = 1
    world.ce.save()
    client.force_login(world.owner)
    first = client.post("/courses/dgm/vae-reparam/submit/", {"file": SimpleUploadedFile("solution.py", SOLUTION)})
    assert first.status_code == 302
    second = client.post("/courses/dgm/vae-reparam/submit/", {"source": SOLUTION.decode()})
    assert second.status_code == 400 and "used all 1 submissions" in second.content.decode()
    assert Submission.objects.count() == 1


def test_math_is_protected_from_markdown_and_escaped():
    html = markdown_to_safe_html(r"Let $a_1 * b_2 \{x\}$ and $$\exp\!\left(x\right)$$ but `$code$`, "
                                 "costs $5 and $10. <script>x</script>", math=True)
    assert r'<span class="math inline">$a_1 * b_2 \{x\}$</span>' in html  # no <em>, backslashes kept
    assert r'<span class="math display">$$\exp\!\left(x\right)$$</span>' in html
    assert "<code>$code$</code>" in html and "costs $5 and $10" in html
    assert "<script>" not in html
    assert 'class="math inline">$&lt;' not in html
    evil = markdown_to_safe_html("$</span><img src=x onerror=alert(1)>$", math=True)
    assert "<img" not in evil and "&lt;/span&gt;&lt;img" in evil
    assert "math" not in markdown_to_safe_html("$x$")  # off unless asked


def test_feedback_page_marks_hints_hidden_checks_and_the_score(client, world):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=1.0, visible_score=1.0, max_score=4.0, result={
        "status": "graded", "score": 1.0, "max_score": 4.0, "output": "", "tests": [
            {"name": "mean", "title": "Mean", "score": 1.0, "max_score": 1.0, "status": "passed", "output": "",
             "visibility": "visible"},
            {"name": "std", "title": "Std", "score": 0.0, "max_score": 2.0, "status": "failed",
             "output": "**Expected:** 1\n\n**Got:** 2\n\n**Hint:** use `exp(0.5 * logvar)`", "visibility": "visible"},
            {"name": "secret", "title": "Secret", "score": 0.0, "max_score": 1.0, "status": "failed",
             "output": "the secret input", "visibility": "hidden"}]})
    client.force_login(world.owner)
    html = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert '<p class="hint"><strong>Hint:</strong> use <code>exp(0.5 * logvar)</code></p>' in html
    assert 'class="check hidden"' in html and "the secret input" not in html and "Secret" not in html
    assert 'class="badge passed">1 passed' in html and 'class="badge failed">1 failed' in html
    assert 'class="badge hidden">1 hidden' in html
    # The score is of the checks the student can see: 1 of the 3 visible check points (not 1 / 4).
    assert 'id="score-value">1</span> <small>/ 3 visible check points' in html and 'data-percent="33"' in html
    assert f"/api/submissions/{sub.pk}/" in html  # the live status polls the API
