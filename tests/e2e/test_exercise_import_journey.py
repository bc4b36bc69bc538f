"""An instructor imports an exercise bundle in a real browser: the upload goes through Redis to a
real Celery worker, which validates it in the Docker sandbox; the page shows the report, and the
exercise reaches the catalogue only after the instructor approves it."""
from __future__ import annotations

import time

import pytest

from catalog.models import Exercise
from tests.web.test_exercise_import import folder_zip

from .conftest import log_in

VALIDATION_TIMEOUT_S = 300


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_instructor_imports_a_bundle_reads_the_report_and_approves(world, docker_sandbox, celery_worker_process,
                                                                   new_page, tmp_path):
    bundle = tmp_path / "my-reparam.zip"
    bundle.write_bytes(folder_zip())
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "teacher")
    page.get_by_role("link", name="Exercise imports").click()
    page.set_input_files("input[type=file][name=bundle]", str(bundle))
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_url("**/imports/*/")
    deadline = time.monotonic() + VALIDATION_TIMEOUT_S
    while page.get_attribute("#import-status", "data-status") in ("queued", "validating"):
        assert celery_worker_process.poll() is None, open(celery_worker_process.log_path).read()[-4000:]
        assert time.monotonic() < deadline, open(celery_worker_process.log_path).read()[-4000:]
        page.wait_for_timeout(1000)
        page.reload()
    assert page.get_attribute("#import-status", "data-status") == "passed"
    assert "14 / 14" in page.locator("#solution-score").inner_text()
    assert page.locator("#cases tbody tr.ok").count() >= 10 and page.locator("#cases tbody tr.bad").count() == 0
    # Its files, checks.py open to read (approval makes it trusted code).
    assert page.locator("#files details[open] summary", has_text="checks.py").count() == 1
    assert "CHECKS" in page.locator("#files details[open]", has_text="checks.py").inner_text()
    assert not Exercise.objects.filter(slug="my-reparam").exists()
    page.get_by_label("I have read its files").check()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert "In the catalogue" in page.locator("#approved").inner_text()
    assert Exercise.objects.get(slug="my-reparam").current_version.max_score == 14
