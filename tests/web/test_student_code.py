"""A student's code is never lost: view, download, diff, load back into the editor; who may see it;
syntax errors refused before the queue at no attempt; suffixes in any case."""
import json

import nbformat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import user_create
from courses.models import Enrollment
from courses.services import enrollment_create
from submissions.models import Submission
from submissions.services import submission_attempts_used, submission_create

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")
HOSTILE = b"print('<script>alert(1)</script>')\nx = 1\n"


def notebook(*sources: str, markdown: str = "# notes") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return nbformat.writes(nb).encode()


def submit(world, data=SOLUTION, name="solution.py", user=None):
    return submission_create(user=user or world.owner, course_exercise=world.ce, filename=name, data=data)


def staff_user():
    user = user_create(username="admin", password="correct horse battery")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.parametrize("viewer", ["owner", "instructor", "staff"])
@pytest.mark.parametrize("page", ["code", "download", "detail"])
def test_the_owner_the_instructor_and_staff_see_the_code(client, world, viewer, page):
    sub = submit(world)
    client.force_login(staff_user() if viewer == "staff" else getattr(world, viewer))
    url = {"code": f"/submissions/{sub.pk}/code/", "download": f"/submissions/{sub.pk}/download/",
           "detail": f"/submissions/{sub.pk}/"}[page]
    response = client.get(url)
    assert response.status_code == 200
    if page == "download":
        assert response.content == SOLUTION
        assert response["Content-Disposition"] == 'attachment; filename="solution.py"'
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
    if page == "code":
        assert "def reparameterize" in response.content.decode()


@pytest.mark.parametrize("viewer", ["peer", "outsider", "anonymous", "other_instructor"])
@pytest.mark.parametrize("page", ["code/", "download/", "edit/", ""])
def test_peers_outsiders_and_other_courses_instructors_do_not(client, world, viewer, page):
    from courses.services import course_create

    sub = submit(world)
    if viewer == "other_instructor":
        course_create(slug="other", title="Other", instructor=world.outsider)
        client.force_login(world.outsider)
    elif viewer != "anonymous":
        client.force_login(getattr(world, viewer))
    response = client.get(f"/submissions/{sub.pk}/{page}")
    assert response.status_code == (302 if viewer == "anonymous" else 404)
    assert b"reparameterize" not in response.content


def test_only_the_owner_loads_it_into_their_editor(client, world):
    sub = submit(world, data=b"MARKER = 42\n")
    client.force_login(world.instructor)
    assert client.get(f"/submissions/{sub.pk}/edit/").status_code == 404
    client.force_login(world.owner)
    page = client.get(f"/submissions/{sub.pk}/edit/").content.decode()
    assert "MARKER = 42" in page.split('name="source"', 1)[1]
    assert f'data-loaded-from="{sub.pk}"' in page


def test_the_code_page_escapes_the_code_and_shows_the_notebook_cells(client, world):
    sub = submit(world, data=notebook("import torch", HOSTILE.decode(), markdown="SECRET MARKDOWN"),
                 name="work.ipynb")
    client.force_login(world.owner)
    page = client.get(f"/submissions/{sub.pk}/code/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Cell 2" in page and "Cell 3" in page and "SECRET MARKDOWN" not in page
    assert "2 code cells of 3 cells" in page


def test_a_diff_against_the_previous_submission_and_a_chosen_earlier_one(client, world):
    first = submit(world, data=b"a = 1\nb = 2\n")
    second = submit(world, data=b"a = 1\nb = 3\n")
    third = submit(world, data=b"a = 1\nb = 3\nc = '<b>'\n")
    client.force_login(world.owner)
    page = client.get(f"/submissions/{third.pk}/code/").content.decode()
    assert '<span class="add">+c = &#x27;&lt;b&gt;&#x27;</span>' in page
    assert f"since submission #{second.pk}" in page
    page = client.get(f"/submissions/{third.pk}/code/?against={first.pk}").content.decode()
    assert '<span class="del">-b = 2</span>' in page and '<span class="add">+b = 3</span>' in page
    for bad in ("abc", str(third.pk), "9" * 40):  # not earlier, not a number, huge: a 404, never a 500
        assert client.get(f"/submissions/{third.pk}/code/?against={bad}").status_code == 404
    first_page = client.get(f"/submissions/{first.pk}/code/").content.decode()
    assert "first submission of this exercise" in first_page


def test_a_peers_submission_is_never_a_diff_base(client, world):
    theirs = submit(world, user=world.peer, data=b"peer_secret = 1\n")
    mine = submit(world, data=b"x = 1\n")
    client.force_login(world.owner)
    assert client.get(f"/submissions/{mine.pk}/code/?against={theirs.pk}").status_code == 404
    assert "peer_secret" not in client.get(f"/submissions/{mine.pk}/code/").content.decode()


@pytest.mark.parametrize(("name", "data", "where"), [
    ("solution.py", b"import torch\n\ndef f(x)\n    return x\n", "at line 3: def f(x)"),
    ("work.ipynb", notebook("import torch", "x = 1\ny = (\n"), "at cell 3, line 2"),
    ("Work.IPYNB", notebook("def g(:\n    pass"), "at cell 2, line 1"),
])
def test_a_syntax_error_is_refused_at_once_and_costs_no_attempt(client, world, enqueued, name, data, where):
    world.ce.max_submissions = 1
    world.ce.save()
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    text = response.content.decode()
    assert "does not parse" in text and where in text and "no attempt was used" in text
    assert Submission.objects.count() == 0 and enqueued == []
    assert submission_attempts_used(user=world.owner, course_exercise=world.ce) == 0
    submit(world)  # the one attempt is still there


def test_the_editor_refuses_a_syntax_error_and_keeps_the_code(client, world):
    client.force_login(world.owner)
    response = client.post("/courses/dgm/vae-reparam/submit/", {"source": "def f(:\n  KEEP_ME = 1\n"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "solution.py does not parse" in text and "KEEP_ME = 1" in text
    assert Submission.objects.count() == 0


def test_the_api_refuses_a_syntax_error_with_its_line(client, world):
    response = client.post("/api/submissions/", {"exercise": "vae-reparam",
                                                 "file": SimpleUploadedFile("s.py", b"x = = 1\n")},
                           HTTP_AUTHORIZATION=f"Token {world.tokens['owner']}")
    assert response.status_code == 400
    assert "line 1" in json.loads(response.content)["error"]
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(("name", "stored"), [("SOL.PY", "SOL.py"), ("Solution.IPYNB", "Solution.ipynb"),
                                              ("dir/Work.Py", "Work.py")])
def test_suffixes_are_case_insensitive_and_stored_in_lower_case(world, name, stored):
    data = notebook(SOLUTION.decode()) if stored.endswith(".ipynb") else SOLUTION
    assert submit(world, data=data, name=name).filename == stored


def test_a_wrong_suffix_gets_one_clear_message(client, world):
    client.force_login(world.owner)
    text = client.post("/courses/dgm/vae-reparam/submit/",
                       {"file": SimpleUploadedFile("notes.TXT", SOLUTION)}).content.decode()
    assert "Submit a Python file (.py) or a Jupyter notebook (.ipynb). “notes.TXT” is neither." in text


def test_a_notebook_traceback_names_the_cell(client, world):
    from submissions.services import submission_claim, submission_finish

    sub = submit(world, data=notebook("import torch", "def f():\n    return 1 / 0"), name="work.ipynb")
    token = submission_claim(submission_id=sub.pk)
    tb = 'Traceback:\n  File "/scratch/solution.py", line 6, in f\nZeroDivisionError'
    submission_finish(submission_id=sub.pk, token=token, result={
        "status": "graded", "score": 0, "max_score": 1, "output": "", "tests": [
            {"name": "t", "title": "T", "score": 0, "max_score": 1, "status": "error", "visibility": "visible",
             "output": "raised dgmu0123456789abz", "untrusted": {"dgmu0123456789abz": {"text": tb, "block": True}}}]})
    client.force_login(world.owner)
    page = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert "cell 3, line 2, in f" in page and "line 6" not in page


def test_a_ta_sees_the_code_but_cannot_load_it_into_their_editor(client, world):
    sub = submit(world)
    helper = user_create(username="helper", password="correct horse battery")
    enrollment_create(user=helper, course=world.course, role=Enrollment.Role.TA)
    client.force_login(helper)
    assert client.get(f"/submissions/{sub.pk}/code/").status_code == 200
    assert client.get(f"/submissions/{sub.pk}/download/").content == SOLUTION
    assert client.get(f"/submissions/{sub.pk}/edit/").status_code == 404


def test_a_training_exercise_offers_a_local_training_kit_of_public_files_only(client, world, enqueued):
    import io
    import zipfile

    from catalog.models import Exercise
    from catalog.services import course_exercise_create, exercise_sync

    exercise_sync(slug="vae-train")
    course_exercise_create(course=world.course, exercise=Exercise.objects.get(slug="vae-train"), points=10)
    client.force_login(world.owner)
    page = client.get("/courses/dgm/vae-train/").content.decode()
    assert 'id="training-kit"' in page
    response = client.get("/courses/dgm/vae-train/local-training.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert {"vae-train-local/scaffold.py", "vae-train-local/reference_models/vae_nets.py",
            "vae-train-local/reference_models/__init__.py", "vae-train-local/run_local.py",
            "vae-train-local/budget.json", "vae-train-local/solution.py", "vae-train-local/README.md"} <= names
    assert not any("checks" in n or "right/" in n or "wrong/" in n for n in names)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert b"NotImplementedError" in archive.read("vae-train-local/solution.py")  # the starter, not the solution
    # A function exercise has no kit, and an outsider gets none.
    assert client.get("/courses/dgm/vae-reparam/local-training.zip").status_code == 404
    client.force_login(world.outsider)
    assert client.get("/courses/dgm/vae-train/local-training.zip").status_code == 404


@pytest.mark.slow
def test_the_local_training_kit_runs_with_a_solution(client, world, enqueued, tmp_path):
    """The kit as a student unpacks it: run_local.py trains the scaffold with their solution.py on
    synthetic images at the tiny profile and writes samples.png (a real training run, in a subprocess)."""
    import io
    import subprocess
    import sys
    import zipfile

    from catalog.models import Exercise
    from catalog.services import course_exercise_create, exercise_sync
    from grader.spec import load_exercise

    exercise_sync(slug="vae-train")
    course_exercise_create(course=world.course, exercise=Exercise.objects.get(slug="vae-train"), points=10)
    client.force_login(world.owner)
    zipfile.ZipFile(io.BytesIO(client.get("/courses/dgm/vae-train/local-training.zip").content)).extractall(tmp_path)
    kit = tmp_path / "vae-train-local"
    (kit / "solution.py").write_text(load_exercise("vae-train").solution().source())
    run = subprocess.run([sys.executable, "run_local.py", "--profile", "tiny"], cwd=kit, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "trained in" in run.stdout and (kit / "samples.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_a_sampler_races_kit_samples_the_races_weights_without_training(client, world, enqueued, tmp_path):
    """sampler-race trains nothing: its kit carries the race's pinned weights, and run_local.py samples
    them with the student's functions through the race's program (a real run, in a subprocess)."""
    import io
    import json
    import subprocess
    import sys
    import zipfile

    from catalog.models import Exercise
    from catalog.services import course_exercise_create, exercise_sync
    from grader.spec import load_exercise
    from reference_models.race_ddpm import WEIGHTS

    exercise_sync(slug="sampler-race")
    course_exercise_create(course=world.course, exercise=Exercise.objects.get(slug="sampler-race"), points=10)
    client.force_login(world.owner)
    zipfile.ZipFile(io.BytesIO(client.get("/courses/dgm/sampler-race/local-training.zip").content)).extractall(
        tmp_path)
    kit = tmp_path / "sampler-race-local"
    assert (kit / "race_ddpm.safetensors").read_bytes() == WEIGHTS.read_bytes()
    assert json.loads((kit / "budget.json").read_text())["weights"] == "race_ddpm.safetensors"
    (kit / "solution.py").write_text(load_exercise("sampler-race").solution().source())
    run = subprocess.run([sys.executable, "run_local.py", "--profile", "tiny"], cwd=kit, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "sampling the fixed weights" in run.stdout and "trained in" not in run.stdout
    assert "shape (256, 28, 28)" in run.stdout  # 64 images at each of the tiny ladder's 4 rungs
    assert (kit / "samples.png").read_bytes().startswith(b"\x89PNG")
