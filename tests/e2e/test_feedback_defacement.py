"""A submission that tries to deface its feedback (tests/attacks/feedback_defacement.py: Markdown fences,
backticks, raw HTML, images, javascript: and https links, the page's own classes, in what it prints and
raises) is graded by a real worker in the Docker sandbox; its page, opened by the instructor and by the
student in Chromium, makes no request beyond 127.0.0.1, violates no Content-Security-Policy, contains
none of the injected elements, shows the payload as text, and is no wider than a phone's screen."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.urls import reverse

from submissions.models import Submission
from submissions.services import submission_create

from .conftest import log_in

HOSTILE = Path(__file__).resolve().parents[1] / "attacks" / "feedback_defacement.py"


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_a_defacing_submission_shows_as_text_and_loads_nothing(world, docker_sandbox, celery_worker_process,
                                                               new_page):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="deface.py",
                            data=HOSTILE.read_bytes())
    deadline = time.monotonic() + 240
    while Submission.objects.get(pk=sub.pk).is_pending:
        assert celery_worker_process.poll() is None, open(celery_worker_process.log_path).read()[-3000:]
        assert time.monotonic() < deadline, "not graded in time"
        time.sleep(0.3)
    sub.refresh_from_db()
    assert sub.status == "graded" and sub.score == 0, sub.result
    assert "evil.example" not in sub.result["output"] and sub.result["untrusted"]  # the Markdown holds tokens

    violations = []

    def on_console(msg) -> None:
        if "Content Security Policy" in msg.text:
            violations.append(msg.text)

    for username, viewport in (("teacher", {"width": 1280, "height": 900}), ("owner", {"width": 390, "height": 844})):
        page = new_page(viewport=viewport)
        page.on("console", on_console)
        log_in(page, username)
        page.goto(reverse("submission-detail", args=[sub.pk]))
        page.wait_for_load_state("networkidle")
        feedback = page.locator("#feedback")
        assert page.locator('[id^="injected"]').count() == 0
        assert feedback.locator("img, iframe, script, form").count() == 0
        assert feedback.locator('a[href^="http"], a[href^="javascript"], a[href^="//"]').count() == 0
        assert feedback.locator(".scoreboard").count() == 1  # the page's own score box, nothing more
        shown = feedback.locator("pre.untrusted").first
        assert "Instructor override: 13 / 13" in shown.inner_text() and "<img src=" in shown.inner_text()
        assert violations == []
        wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 0, f"the page is {wide} px wider than the screen for {username}"
