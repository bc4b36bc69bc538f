"""Feedback nobody can deface: what a submission controls (printed output, exception text, tracebacks)
is escaped text in a <pre>/<code>; the author's Markdown is sanitised with nh3 (no images, links within
the site only, no class or style from content); every page has a strict Content-Security-Policy."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from catalog.markdown import markdown_to_safe_html
from grader.untrusted import collecting, pieces_in, resolve_plain, untrusted
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import REPO_ROOT, SOLUTION

HOSTILE = (REPO_ROOT / "tests" / "attacks" / "feedback_defacement.py").read_text()
PAYLOAD = HOSTILE.split('PAYLOAD = (')[1].split(')\nprint')[0]


class Elements(HTMLParser):
    """The elements of an HTML text, with their attributes: what a browser would build."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def injected(html: str) -> list:
    """Elements the payload tried to create: images, links off the site or to javascript:, its ids, and the
    page's own classes on elements that carry the payload's ids."""
    bad = []
    for tag, attrs in Elements(html).found:
        href = attrs.get("href") or ""
        if tag in ("img", "iframe", "script", "object", "embed", "form", "input") or \
                href.startswith(("http:", "https:", "//", "javascript:")) or "injected" in (attrs.get("id") or ""):
            bad.append((tag, attrs))
    return bad


def _payload() -> str:
    namespace: dict = {}
    exec("PAYLOAD = (" + PAYLOAD + ")", namespace)  # our own fixture's string, not a submission
    return namespace["PAYLOAD"]


def test_untrusted_pieces_replace_their_tokens_as_escaped_text():
    payload = _payload()
    with collecting() as registry:
        markdown = f"Your code raised {untrusted('ValueError: ' + payload)}.\n\nIt printed:" + untrusted(
            payload, block=True)
    pieces = pieces_in(markdown, registry)
    assert len(pieces) == 2 and payload not in markdown  # the Markdown holds tokens only
    html = markdown_to_safe_html(markdown, math=True, untrusted=pieces)
    assert injected(html) == [] and [t for t, _ in Elements(html).found] == ["p", "code", "p", "pre", "code"], html
    assert html.count('<pre class="untrusted"><code>') == 1 and html.count('<code class="untrusted">') == 1
    assert "&lt;img src=&quot;https://evil.example/pixel.png&quot;" in html  # shown, escaped
    assert resolve_plain(markdown, pieces).count(payload) == 2  # the terminal prints it as it is
    assert markdown_to_safe_html(markdown).count("dgmu") == 0  # a token without its piece shows nothing


def test_outside_a_grading_untrusted_text_cannot_close_its_code_span():
    payload = _payload()
    html = markdown_to_safe_html("Got " + untrusted(payload) + " and" + untrusted(payload, block=True))
    assert injected(html) == [] and {t for t, _ in Elements(html).found} == {"p", "code", "pre"}, html


@pytest.mark.parametrize("author_markdown, banned, kept", [
    ("![grid](https://evil.example/a.png) ![x](/static/x.png)", ["<img"], []),
    ("[evil](https://evil.example/login) [js](javascript:alert(1)) [proto](//evil.example)", ["href="], []),
    ("[the board](/courses/dgm/leaderboard/) [top](#score)", [], ['href="/courses/dgm/leaderboard/"', 'href="#score"']),
    ('<div class="scoreboard full" style="color:red">x</div> <span class="badge">y</span>',
     ["class=", "style="], ["x", "y"]),
    ("<script>alert(1)</script><iframe src=/x></iframe><form action=/x><input></form>",
     ["<script", "<iframe", "<form", "<input"], []),
])
def test_the_authors_markdown_is_sanitised_strictly(author_markdown, banned, kept):
    html = markdown_to_safe_html(author_markdown)
    assert all(b not in html for b in banned), html
    assert all(k in html for k in kept), html


def _feedback(page: str) -> str:
    """The page's feedback section: the score, the summary, the checks (not the page's own forms and scripts)."""
    start = page.index('<div id="feedback">')
    ends = [page.find(marker, start) for marker in ('id="instructor-tools"', 'id="submission-data"')]
    return page[start:min(e for e in ends if e > 0)]


def _store(world, result: dict) -> Submission:
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=0.0, visible_score=0.0, max_score=13.0,
                                                result=result)
    return sub


def test_a_defacing_result_reaches_the_page_as_text_for_owner_and_instructor(client, world, enqueued):
    payload = _payload()
    with collecting() as registry:
        summary = "Your code printed:" + untrusted(payload, block=True)
        check = f"`reparameterize(...)` raised {untrusted('ValueError: ' + payload)}" + untrusted(
            "Traceback ...\n" + payload, block=True) + "\n\n**Hint:** Look at the traceback."
    result = {"status": "graded", "score": 0.0, "max_score": 13.0, "output": summary,
              "untrusted": pieces_in(summary, registry),
              "tests": [{"name": "mean", "title": "Mean", "score": 0.0, "max_score": 2.0, "status": "failed",
                         "output": check, "untrusted": pieces_in(check, registry), "visibility": "visible"}]}
    sub = _store(world, result)
    for viewer in (world.owner, world.instructor):
        client.force_login(viewer)
        response = client.get(reverse("submission-detail", args=[sub.pk]))
        body = _feedback(response.content.decode())
        assert injected(body) == []
        assert body.count('<pre class="untrusted">') == 2 and "Instructor override: 13 / 13" in body  # as text
        assert '<p class="hint"><strong>Hint:</strong>' in body
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_results_stored_before_the_split_are_still_sanitised(client, world, enqueued):
    """Older results carry the submission's text inside their Markdown: the sanitiser still keeps every
    image, external link and class out."""
    payload = _payload()
    sub = _store(world, {"status": "graded", "score": 0.0, "max_score": 13.0,
                         "output": f"Your code printed:\n```\n{payload}\n```\n\n{payload}",
                         "tests": [{"name": "mean", "title": "Mean", "score": 0.0, "max_score": 2.0,
                                    "status": "failed", "output": f"raised `ValueError: {payload}`",
                                    "visibility": "visible"}]})
    client.force_login(world.owner)
    body = _feedback(client.get(reverse("submission-detail", args=[sub.pk])).content.decode())
    assert injected(body) == []
    assert not [a for _, a in Elements(body).found if a.get("class") in ("scoreboard full", "badge passed")
                and "Instructor override" in body[body.index("Summary"):]]


def test_every_page_has_the_content_security_policy(client, world):
    for url in ("/login/", reverse("course-list")):
        header = client.get(url)["Content-Security-Policy"]
        assert "default-src 'none'" in header and "frame-ancestors 'none'" in header
        assert "unsafe-inline" not in header and "unsafe-eval" not in header
