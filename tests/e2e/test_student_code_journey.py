"""A student's code in a real browser: the draft survives leaving and coming back, a submitted file
is viewed, downloaded and diffed, a file that does not parse is refused before the queue, and the
whole submit journey works from the keyboard alone. No worker runs: nothing here needs a grading."""
from __future__ import annotations

import pytest

from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION, log_in

EXERCISE = "/courses/dgm/vae-reparam/"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("enqueued")]


def test_the_draft_survives_leaving_and_coming_back(world, new_page):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "owner")
    page.goto(EXERCISE)
    editor = page.locator("#editor")
    editor.fill("import torch\n\nDRAFT_MARKER = 1\n")
    page.goto("/")  # left by a link: the draft is kept in this browser
    page.goto(EXERCISE)
    assert "DRAFT_MARKER = 1" in page.locator("#editor").input_value()
    assert "Restored your draft" in page.locator("#editor-draft").inner_text()
    # Leaving with unsubmitted changes asks first (the browser's own beforeunload dialog).
    page.locator("#editor").press("End")
    page.locator("#editor").press_sequentially("# more")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    page.evaluate("window.location.href = '/'")
    page.wait_for_timeout(300)  # the dialog is synchronous with the navigation it cancels
    assert asked == ["beforeunload"]


def test_a_submitted_file_is_viewed_downloaded_and_diffed(world, new_page, tmp_path):
    first = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py",
                              data=b"import torch\n\ndef reparameterize(mu, logvar):\n    return mu\n")
    second = submission_create(user=world.owner, course_exercise=world.ce, filename="solution.py", data=SOLUTION)
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "owner")
    page.goto(f"/submissions/{second.pk}/")
    page.get_by_role("link", name="View the code").click()
    page.wait_for_url(f"**/submissions/{second.pk}/code/")
    assert "def reparameterize" in page.locator("#files pre code").inner_text()
    assert page.locator("#files pre code.hljs").count() == 1  # highlighted by highlight.js
    assert page.locator("#diff pre.diff .del", has_text="return mu").count() == 1
    assert page.locator("#diff pre.diff .add").count() >= 1
    with page.expect_download() as info:
        page.locator("#code-actions").get_by_role("link", name="Download solution.py").click()
    path = tmp_path / "downloaded.py"
    info.value.save_as(path)
    assert path.read_bytes() == SOLUTION
    # The earlier one back into the editor.
    page.goto(f"/submissions/{first.pk}/code/")
    page.get_by_role("link", name="Load into the editor").click()
    assert page.locator("#editor").input_value().rstrip().endswith("return mu")
    assert f"submission #{first.pk}" in page.locator("#loaded-from").inner_text()


def test_a_syntax_error_is_refused_before_the_queue(world, new_page):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "owner")
    page.goto(EXERCISE)
    page.locator("#editor").fill("import torch\n\ndef reparameterize(mu, logvar)\n    return mu\n")
    page.get_by_role("button", name="Submit code").click()
    error = page.locator("#form-error")
    assert "does not parse" in error.inner_text() and "line 3" in error.inner_text()
    assert "no attempt was used" in error.inner_text()
    assert error.evaluate("e => e === document.activeElement")  # read out and in view
    assert Submission.objects.filter(user=world.owner).count() == 0
    # What the student typed is still in the editor.
    assert "def reparameterize(mu, logvar)\n" in page.locator("#editor").input_value()


def test_a_keyboard_only_student_submits(world, new_page):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "owner")
    page.goto(EXERCISE)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("e => e === document.activeElement")
    editor = page.locator("#editor")
    editor.focus()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(SOLUTION.decode())
    page.keyboard.press("Tab")  # inside the editor Tab indents...
    assert editor.evaluate("e => e === document.activeElement")
    page.keyboard.press("Control+Z")  # ...and undo takes the indent back
    assert editor.input_value().rstrip("\n") == SOLUTION.decode().rstrip("\n")
    page.keyboard.press("Escape")  # ...Esc, then Tab, moves on: Submit is reachable
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Submit code":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Submit code"
    page.keyboard.press("Enter")
    page.wait_for_url("**/submissions/*/")
    sub = Submission.objects.get(user=world.owner)
    assert bytes(sub.data).rstrip(b"\n").replace(b"\r\n", b"\n") == SOLUTION.rstrip(b"\n")


def test_the_submit_tabs_follow_the_aria_pattern(world, new_page):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(page, "owner")
    page.goto(EXERCISE)
    editor_tab, upload_tab = page.get_by_role("tab", name="Editor"), page.get_by_role("tab", name="Upload a file")
    editor_tab.focus()
    page.keyboard.press("ArrowRight")
    assert upload_tab.get_attribute("aria-selected") == "true" and upload_tab.get_attribute("tabindex") == "0"
    assert editor_tab.get_attribute("tabindex") == "-1"
    assert page.locator("#panel-upload").is_visible() and not page.locator("#panel-editor").is_visible()
    page.keyboard.press("Home")
    assert editor_tab.get_attribute("aria-selected") == "true"
