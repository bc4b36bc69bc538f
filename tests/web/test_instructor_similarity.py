"""The similarity report: students' best submissions ranked by shared code, the starter left out,
pairs side by side as escaped text, and who may open it."""
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_create
from courses.models import Enrollment
from courses.services import course_create, enrollment_create
from courses.similarity import similarity_pairs
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import REPO_ROOT

pytestmark = pytest.mark.usefixtures("enqueued")
STARTER = (REPO_ROOT / "exercises" / "vae-reparam" / "starter.py").read_text()
ORIGINAL = STARTER.replace('    raise NotImplementedError("write reparameterize")', '''    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    total = 0
    for index in range(3):
        total = total + index * 2 - 1
    if total > 100:
        raise ValueError("impossible: </code><script>alert('x')</script>")
    return mu + std * eps + 0 * total''')
# the same code with every name changed: the fingerprints normalise names
DISGUISED = (ORIGINAL.replace("std", "sigma").replace("eps", "noise").replace("total", "acc")
             .replace("index", "k"))
HONEST = STARTER.replace('    raise NotImplementedError("write reparameterize")',
                         "    return mu + torch.randn_like(mu) * (logvar / 2).exp()")
URL = reverse("courses:similarity", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam"})


def _graded(world, user, code, score=13.0):
    sub = submission_create(user=user, course_exercise=world.ce, filename="s.py", data=code.encode())
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=score, max_score=13.0,
                                                finished_at=timezone.now())
    return Submission.objects.get(pk=sub.pk)


@pytest.fixture
def copies(world):
    w = world
    w.third = user_create(username="third", password="correct horse battery")
    w.fourth = user_create(username="fourth", password="correct horse battery")
    for user in (w.third, w.fourth):
        enrollment_create(user=user, course=w.course, role=Enrollment.Role.STUDENT)
    _graded(w, w.owner, HONEST, score=2.0)  # not the owner's best
    w.a = _graded(w, w.owner, ORIGINAL)
    w.b = _graded(w, w.peer, DISGUISED)
    w.c = _graded(w, w.third, HONEST)
    w.d = _graded(w, w.fourth, STARTER)  # only the starter: shares nothing that counts
    _graded(w, w.instructor, ORIGINAL)  # staff submissions are not compared
    return w


def test_pairs_ranked_with_the_starter_left_out(copies):
    w = copies
    pairs, students = similarity_pairs(course_exercise=w.ce)
    assert students == 4
    top = pairs[0]
    assert {top.a.pk, top.b.pk} == {w.a.pk, w.b.pk} and top.similarity > 0.9
    assert all(w.d.pk not in (p.a.pk, p.b.pk) for p in pairs)  # the starter alone is never "copied"
    others = [p for p in pairs if {p.a.pk, p.b.pk} != {w.a.pk, w.b.pk}]
    assert all(p.similarity < top.similarity for p in others)
    # the quick pre-ranking keeps the true top pair when only a few are compared exactly
    (only,), _ = similarity_pairs(course_exercise=w.ce, limit=1)
    assert {only.a.pk, only.b.pk} == {w.a.pk, w.b.pk} and only.similarity == top.similarity


def test_the_report_and_a_pair_side_by_side_escape_the_code(client, copies):
    w = copies
    client.force_login(w.instructor)
    html = client.get(URL).content.decode()
    pair_url = reverse("courses:similarity_pair", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam",
                                                          "a_id": w.a.pk, "b_id": w.b.pk})
    assert pair_url in html and html.index("owner") < html.index("side by side")
    response = client.get(pair_url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in page and "&lt;/code&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert '<mark class="copied">' in page and "sigma" in page and "std" in page
    assert response.context["similarity_a"] > 0.9
    # the starter's own lines are not marked as shared
    assert 'copied">import torch' not in page
    # a pair must be two submissions of this exercise
    for a_id, b_id in ((w.a.pk, w.a.pk), (w.a.pk, 999999)):
        assert client.get(reverse("courses:similarity_pair", kwargs={
            "slug": "dgm", "exercise_slug": "vae-reparam", "a_id": a_id, "b_id": b_id})).status_code == 404


def test_who_may_open_the_similarity_report(client, copies):
    w = copies
    ta = user_create(username="assistant", password="correct horse battery")
    enrollment_create(user=ta, course=w.course, role=Enrollment.Role.TA)
    other = user_create(username="other-teacher", password="correct horse battery")
    course_create(slug="other", title="Other", instructor=other)
    pair_url = reverse("courses:similarity_pair", kwargs={"slug": "dgm", "exercise_slug": "vae-reparam",
                                                          "a_id": w.a.pk, "b_id": w.b.pk})
    for user, expected in ((w.owner, 404), (w.peer, 404), (other, 404), (w.outsider, 404), (ta, 200),
                           (w.instructor, 200)):
        client.force_login(user)
        for url in (URL, pair_url):
            assert client.get(url).status_code == expected, (user.username, url)
