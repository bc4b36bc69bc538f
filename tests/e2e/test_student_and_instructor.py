"""End to end in a real browser: a student submits and reads feedback; an instructor edits a
deadline and exports grades. Real Celery worker, real Redis, real Docker sandbox."""
from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from catalog.models import CourseExercise
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION, log_in

WRONG = """import torch


def reparameterize(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)
"""
GRADING_TIMEOUT_MS = 240_000


def submit_and_watch(page, worker, submit) -> int:
    """Submits with `submit(page)`, then watches the status reach "graded" on the same document
    (a marker set on `window` survives: nothing reloaded the page). Returns the submission's id."""
    submit(page)
    page.wait_for_url(re.compile(r".*/submissions/\d+/$"))
    pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.evaluate("window.__sameDocument = true")
    seen = set()
    deadline = time.monotonic() + GRADING_TIMEOUT_MS / 1000
    while (status := page.get_attribute("#status", "data-status")) != "graded":
        seen.add(status)
        assert status in ("queued", "running"), f"submission {pk} ended {status}"
        assert worker.poll() is None, open(worker.log_path).read()[-4000:]
        assert time.monotonic() < deadline, "not graded in time:\n" + open(worker.log_path).read()[-4000:]
        page.wait_for_timeout(200)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    assert seen, "the status was never shown pending"
    assert page.locator("#status").inner_text() == "Graded"
    assert page.locator("#stepper li.done").count() == 3
    return pk


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_student_submits_right_and_wrong_and_reads_the_feedback(world, docker_sandbox, celery_worker_process,
                                                                new_page, tmp_path):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "owner")
    page.locator(".course-card", has_text="DGM").click()
    page.get_by_role("link", name="The reparameterization trick").click()
    page.wait_for_url("**/courses/dgm/vae-reparam/")
    # The statement's math was typeset by KaTeX (installed from npm), its code highlighted.
    assert page.locator(".statement .katex").count() > 10
    assert page.locator(".statement .math.display .katex-display").count() == 2
    assert page.locator(".statement pre code.hljs").count() >= 1
    # The editor starts from the starter.
    assert "raise NotImplementedError" in page.locator("textarea[name=source]").input_value()

    # 1. The correct solution, uploaded as a file.
    solution = tmp_path / "solution.py"
    solution.write_bytes(SOLUTION)

    def upload(p):
        p.get_by_role("tab", name="Upload a file").click()
        p.set_input_files("input[type=file][name=file]", str(solution))
        p.get_by_role("button", name="Upload and submit").click()

    right = submit_and_watch(page, celery_worker_process, upload)
    assert page.locator("#score-value").inner_text() == "14"
    assert page.locator(".check.passed").count() == 9 and page.locator(".check.failed").count() == 0
    assert "9 passed" in page.locator(".scoreboard").text_content()

    # 2. A wrong one, typed into the editor (tab inserts spaces).
    page.get_by_role("link", name="Back to the exercise").click()
    editor = page.locator("textarea[name=source]")
    editor.fill("")
    editor.press_sequentially("import torch\n\ndef reparameterize(mu, logvar):\n")
    editor.press("Tab")  # the editor kept the indentation after ':' already; Tab adds four spaces more
    editor.press("Shift+Tab")
    editor.press_sequentially("return mu + torch.exp(logvar) * torch.randn_like(mu)")
    assert editor.input_value() == WRONG.replace("\n\n\n", "\n\n").rstrip("\n")
    wrong = submit_and_watch(page, celery_worker_process, lambda p: p.get_by_role("button", name="Submit code").click())
    failed = {page.locator(".check.failed").nth(i).get_attribute("data-check")
              for i in range(page.locator(".check.failed").count())}
    assert {"standard_deviation", "gaussian_noise", "gradients"} <= failed
    assert float(page.locator("#score-value").inner_text()) < 14
    std = page.locator('.check[data-check="standard_deviation"]')
    assert "0 / 2" in std.locator(".pts").inner_text()
    hint = std.locator("p.hint").inner_text()
    assert "Hint:" in hint and "exp(0.5 * logvar)" in hint

    # History: both on the exercise page, newest first, with their scores.
    page.get_by_role("link", name="Back to the exercise").click()
    history = page.locator("#history li")
    assert history.count() == 2
    assert history.nth(0).locator("a").first.inner_text() == f"#{wrong}"  # then its code and load links
    assert history.nth(1).locator("a").first.inner_text() == f"#{right}" and "14 / 14" in history.nth(1).inner_text()
    subs = {s.pk: s for s in Submission.objects.filter(user=world.owner)}
    assert subs[right].score == 14 and subs[wrong].score < 14 and subs[wrong].filename == "solution.py"


@pytest.mark.django_db(transaction=True)
def test_instructor_changes_a_deadline_and_exports_grades(world, new_page, enqueued, tmp_path):
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    Submission.objects.filter(pk=sub.pk).update(status="graded", score=13.0, visible_score=13.0, max_score=13.0,
                                                result={"status": "graded", "score": 13.0, "max_score": 13.0,
                                                        "tests": [], "output": ""})
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "teacher")
    page.goto("/courses/dgm/")
    page.get_by_role("link", name="Instructor dashboard").click()
    page.wait_for_url("**/courses/dgm/dashboard/")

    settings_url = reverse("courses:exercise_settings", args=["dgm", "vae-reparam"])
    page.locator(f'a[href="{settings_url}"]').click()
    page.wait_for_url("**" + settings_url)
    deadline = page.locator("input[name=deadline]")
    assert deadline.get_attribute("type") == "datetime-local"
    deadline.fill("2031-03-14T15:09")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert "Settings saved." in page.content()
    ce = CourseExercise.objects.get(pk=world.ce.pk)
    assert ce.deadline == datetime(2031, 3, 14, 15, 9, tzinfo=UTC)
    page.goto(settings_url)
    assert page.locator("input[name=deadline]").input_value() == "2031-03-14T15:09"

    # The student sees the new deadline.
    student = new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(student, "owner")
    student.goto("/courses/dgm/vae-reparam/")
    assert "14 Mar 2031, 15:09" in student.locator("#facts").inner_text()

    # The grades CSV, downloaded by the browser.
    page.goto("/courses/dgm/dashboard/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export grades (CSV)").click()
    download = info.value
    assert download.suggested_filename == "dgm-grades.csv"
    path = tmp_path / "grades.csv"
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0][:3] == ["username", "email", "name"] and "vae-reparam" in rows[0] and rows[0][-1] == "total"
    by_user = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_user) == {"owner", "peer"}
    assert by_user["owner"]["vae-reparam"] == "10.00" and by_user["owner"]["total"] == "10.00"
    assert by_user["peer"]["vae-reparam"] == "" and by_user["peer"]["total"] == "0.00"
