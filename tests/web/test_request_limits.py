"""Oversized bodies are refused with a 413 before they are read or written to disk (config/uploads.py), and
bad input in URLs and forms is a 404 or a message, never a 500."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from config.uploads import FLAG, RequestBodyTooLarge
from submissions.models import Submission

from .conftest import SOLUTION


@pytest.fixture
def upload_dir(settings, tmp_path):
    """Where Django would write an uploaded file too big for memory: it must stay empty."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def big_file(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("solution.py", b"#" * size)


def test_an_anonymous_post_to_login_over_the_limit_is_refused(client, settings, upload_dir):
    response = client.post("/login/", {"username": "x", "password": "y" * (settings.ANONYMOUS_REQUEST_MAX_BYTES + 1)})
    assert response.status_code == 413
    html = response.content.decode()
    assert "That was too large" in html and f"the limit is {settings.ANONYMOUS_REQUEST_MAX_BYTES:,}" in html
    assert list(upload_dir.iterdir()) == []


def test_an_anonymous_file_upload_never_reaches_the_disk(client, settings, upload_dir):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # without the limit, this file would go to a temporary file
    response = client.post("/login/", {"username": "x", "file": big_file(settings.ANONYMOUS_REQUEST_MAX_BYTES)})
    assert response.status_code == 413 and list(upload_dir.iterdir()) == []


def test_a_signed_in_upload_over_the_limit_gets_the_413_page(client, world, settings, upload_dir):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"file": big_file(settings.REQUEST_MAX_BYTES)})
    assert response.status_code == 413
    html = response.content.decode()
    assert f"A submitted file may be at most {settings.SUBMISSION_MAX_BYTES:,} bytes" in html
    assert "Nothing was stored" in html and Submission.objects.count() == 0
    assert list(upload_dir.iterdir()) == []


def test_just_over_the_submission_limit_keeps_the_friendly_message(client, world, settings):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"file": big_file(settings.SUBMISSION_MAX_BYTES + 1)})
    assert response.status_code == 400
    assert f"the limit is {settings.SUBMISSION_MAX_BYTES:,}" in response.content.decode()


def test_the_api_answers_413_in_json(client, world, settings, upload_dir):
    response = client.post("/api/submissions/",
                           {"exercise": "vae-reparam", "file": big_file(settings.REQUEST_MAX_BYTES)},
                           headers={"Authorization": f"Token {world.tokens['owner']}"})
    assert response.status_code == 413
    assert f"A submitted file may be at most {settings.SUBMISSION_MAX_BYTES:,} bytes" in response.json()["error"]
    assert Submission.objects.count() == 0 and list(upload_dir.iterdir()) == []


def test_a_normal_upload_still_works(client, world, enqueued):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"file": SimpleUploadedFile("solution.py", SOLUTION)})
    assert response.status_code == 302 and Submission.objects.count() == 1


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "9" * 40])
def test_a_content_length_that_is_no_number_is_a_400(client, length):
    response = client.generic("POST", "/login/", b"username=x&password=y",
                              content_type="application/x-www-form-urlencoded", CONTENT_LENGTH=length)
    assert response.status_code == 400 and b"Content-Length" in response.content


def test_the_upload_handler_stops_a_body_that_reaches_the_parser(settings, upload_dir):
    """Behind the middleware, the first upload handler refuses the same bodies: nothing is written."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    body = encode_multipart(BOUNDARY, {"file": big_file(settings.ANONYMOUS_REQUEST_MAX_BYTES)})
    request = RequestFactory().generic("POST", "/login/", body, content_type=MULTIPART_CONTENT)
    with pytest.raises(RequestBodyTooLarge):
        request.FILES  # noqa: B018 (parsing is the point)
    assert getattr(request, FLAG) == (len(body), settings.ANONYMOUS_REQUEST_MAX_BYTES)
    assert list(upload_dir.iterdir()) == []
    small = encode_multipart(BOUNDARY, {"file": big_file(1000)})
    request = RequestFactory().generic("POST", "/login/", small, content_type=MULTIPART_CONTENT)
    assert request.FILES["file"].read() == b"#" * 1000  # under the limit: passed on to the next handlers


HUGE = "9" * 30


@pytest.mark.parametrize("path", ["choose/", "clear-choice/", "disqualify/", "reinstate/", "review/",
                                  "memorisation/", "memorisation.png"])
def test_leaderboard_pages_with_huge_ids_are_404(client, world, path):
    client.force_login(world.instructor)
    assert client.post(f"/submissions/{HUGE}/leaderboard/{path}").status_code == 404
    if path.startswith("memorisation"):
        assert client.get(f"/submissions/{HUGE}/leaderboard/{path}").status_code == 404


@pytest.mark.parametrize("path", ["/submissions/{}/", "/submissions/{}/code/", "/submissions/{}/samples.png",
                                  "/api/submissions/{}/"])
def test_other_pages_with_huge_ids_are_404(client, world, path):
    client.force_login(world.owner)
    assert client.get(path.format(HUGE)).status_code == 404
