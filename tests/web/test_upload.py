"""Upload validation: nothing is stored on bad input, and the message says why."""
import json
import re

import nbformat
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def notebook_bytes(source: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# my work"))
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(nb).encode()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("solution.txt", SOLUTION, "Python file (.py) or a Jupyter notebook"),
    ("solution", SOLUTION, "Python file (.py) or a Jupyter notebook"),
    ("solution.py", b"", "empty"),
    ("solution.py", b"x = 1\ny = 2\nz = '\xff\xfe'\n", "not valid UTF-8"),
    ("solution.py", b"# -*- coding: klingon -*-\nx = 1\n", "encoding declaration"),
    ("work.ipynb", b"{not json", "notebook could not be read"),
    ("work.ipynb", json.dumps({"cells": "nope", "nbformat": 4}).encode(), "notebook could not be read"),
    ("work.ipynb", b"\xff\xfe", "not valid UTF-8"),
    ("solution.py", b"x = 1\n" + b"#" * 1_000_001, "the limit is 1,000,000"),
])
def test_bad_files_are_refused_and_nothing_is_stored(world, name, data, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        submission_create(user=world.owner, course_exercise=world.ce, filename=name, data=data)
    assert Submission.objects.count() == 0


def test_a_valid_notebook_is_accepted(world):
    data = notebook_bytes(SOLUTION.decode())
    sub = submission_create(user=world.owner, course_exercise=world.ce, filename="work.ipynb", data=data)
    assert sub.filename == "work.ipynb" and bytes(sub.data) == data


def test_the_upload_form_shows_the_error_and_stores_nothing(client, world):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/",
                           {"file": SimpleUploadedFile("work.ipynb", b"{broken")})
    assert response.status_code == 400
    assert "The notebook could not be read" in response.content.decode()
    assert Submission.objects.count() == 0


def test_the_api_refuses_an_oversized_file_before_reading_it(client, world, settings):
    settings.SUBMISSION_MAX_BYTES = 100
    response = client.post("/api/submissions/", {"exercise": "vae-reparam",
                                                 "file": SimpleUploadedFile("s.py", b"x = 1\n" * 50)},
                           headers={"Authorization": f"Token {world.tokens['owner']}"})
    assert response.status_code == 400 and "the limit is 100" in response.json()["error"]
    assert Submission.objects.count() == 0


def test_the_upload_form_accepts_a_good_file_and_redirects(client, world):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"file": SimpleUploadedFile("solution.py", SOLUTION)})
    sub = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/submissions/{sub.pk}/"
