"""Exercise bundles uploaded in the web UI: who may import, what is refused at once, validation in a
real sandbox (the same `validate` as the CLI), and approval as the only way into the catalogue."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from accounts.services import user_create
from catalog.imports import import_approve, import_create, import_reject, import_revalidate, import_validate
from catalog.models import Exercise, ExerciseImport
from grader.spec import EXERCISES_DIR

CORE = EXERCISES_DIR / "vae-reparam"


def folder_zip(slug: str = "my-reparam", edit=None, top: bool = True) -> bytes:
    """vae-reparam's folder as an upload named `slug`; `edit(files)` changes it first."""
    files = {p.relative_to(CORE).as_posix(): p.read_bytes() for p in CORE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    if edit:
        edit(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if top:
            archive.writestr(f"{slug}/", b"")  # a folder entry, as zip tools write them
        for name, data in files.items():
            archive.writestr(f"{slug}/{name}" if top else name, data)
    return buffer.getvalue()


@pytest.fixture
def queued(monkeypatch):
    from catalog import tasks

    sent = []
    monkeypatch.setattr(tasks.validate_exercise_import, "apply_async",
                        lambda args=None, queue=None, **kw: sent.append((args[0], queue)))
    return sent


def staff():
    user = user_create(username="admin", password="correct horse battery")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("owner", 404), ("outsider", 404), ("instructor", 200),
                                         ("staff", 200)])
def test_only_instructors_and_staff_reach_the_import_pages(client, world, who, status):
    if who == "staff":
        client.force_login(staff())
    elif who != "anonymous":
        client.force_login(getattr(world, who))
    assert client.get("/imports/").status_code == status
    page = client.get("/").content.decode() if who != "anonymous" else ""
    assert ("Exercise imports" in page) == (status == 200)


def test_an_upload_is_stored_untrusted_and_queued_for_validation(client, world, queued,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(world.instructor)
    upload = io.BytesIO(folder_zip())
    upload.name = "my-reparam.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"bundle": upload})
    imported = ExerciseImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{imported.pk}/"
    assert imported.slug == "my-reparam" and imported.status == "queued" and imported.uploaded_by == world.instructor
    assert queued == [(imported.pk, "quick")]
    assert not Exercise.objects.filter(slug="my-reparam").exists()  # not in the catalogue before approval
    page = client.get(f"/imports/{imported.pk}/").content.decode()
    assert "Waiting for validation" in page and "def reparameterize" in page  # its files, to read


def _no_toml(files):
    del files["exercise.toml"]


def _training(files):
    files["exercise.toml"] = files["exercise.toml"] + b'\n[training]\nprogram = "scaffold.py"\n'


def _bad_extends(files):
    files["exercise.toml"] = b'extends = "../../etc"\n' + files["exercise.toml"]


@pytest.mark.parametrize("data, name, message", [
    (b"not a zip", "x.zip", "could not be read"),
    (folder_zip(), "my-reparam.tar", "Upload a .zip"),
    (folder_zip(slug="vae-reparam"), "x.zip", "already exists"),
    (folder_zip(slug="Bad_Name"), "x.zip", "not a valid exercise name"),
    (folder_zip(edit=_no_toml), "x.zip", "no exercise.toml"),
    (folder_zip(edit=_training), "x.zip", "Training exercises cannot be imported"),
    (folder_zip(edit=_bad_extends), "x.zip", "do not exist here"),
])
def test_what_cannot_be_an_exercise_is_refused_at_once(world, queued, data, name, message):
    with pytest.raises(ValidationError) as caught:
        import_create(user=world.instructor, filename=name, data=data)
    assert message in " ".join(caught.value.messages)
    assert not ExerciseImport.objects.exists() and queued == []


def test_parent_paths_and_two_folders_are_refused(world, queued):
    for entries in ({"../evil/exercise.toml": b""}, {"a/exercise.toml": b"", "b/exercise.toml": b""}):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        with pytest.raises(ValidationError):
            import_create(user=world.instructor, filename="x.zip", data=buffer.getvalue())


def test_files_at_the_top_of_the_zip_take_the_zips_name(world, queued):
    imported = import_create(user=world.instructor, filename="top-level.zip", data=folder_zip(top=False))
    assert imported.slug == "top-level"


def test_a_student_cannot_import_and_nothing_is_approved_unvalidated(world, queued):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_create(user=world.owner, filename="x.zip", data=folder_zip())
    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip())
    with pytest.raises(ValidationError, match="passed"):
        import_approve(exercise_import=imported, by=world.instructor)
    with pytest.raises(PermissionDenied):
        import_approve(exercise_import=imported, by=world.owner)
    with pytest.raises(ValidationError, match="failed validation"):
        import_revalidate(exercise_import=imported, by=world.instructor)
    import_reject(exercise_import=imported, by=world.instructor, note="not ours")
    assert ExerciseImport.objects.get().status == "rejected"


def test_approval_needs_the_review_box_ticked(client, world, queued):
    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip())
    ExerciseImport.objects.filter(pk=imported.pk).update(status="passed", report={"ok": True, "version": "x"})
    client.force_login(world.instructor)
    client.post(f"/imports/{imported.pk}/approve/", {"note": ""})
    assert ExerciseImport.objects.get().status == "passed"
    assert "Tick the box" in client.get(f"/imports/{imported.pk}/").content.decode()
    assert client.post(f"/imports/{imported.pk}/delete/").status_code == 404


def test_the_files_and_report_are_shown_as_escaped_text(client, world, queued):
    def hostile(files):
        files["notes.md"] = b"<script>alert(1)</script>"

    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip(edit=hostile))
    ExerciseImport.objects.filter(pk=imported.pk).update(status="failed", report={
        "ok": False, "error": "<img src=x onerror=alert(2)>", "cases": [
            {"name": "solution", "ok": False, "expected": [], "failed": ["mean"], "status": "graded", "score": 1,
             "max_score": 2, "messages": {"mean": "<b>bold</b>"}}]})
    client.force_login(world.instructor)
    page = client.get(f"/imports/{imported.pk}/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page and "not as labelled" in page


# --- validation in the real sandbox --------------------------------------------------------------

def _mislabel(files):
    files["wrong/cases.toml"] = files["wrong/cases.toml"].replace(b'"gradients"', b'"mean"', 1)


def _hostile_checks(files):
    marker = Path("/tmp/dgm-import-escaped")
    files["checks.py"] += (f"\nopen({str(marker)!r}, 'w').write('ran on the host')\n"
                          "import socket\n"
                          "try:\n"
                          "    socket.create_connection(('127.0.0.1', 6379), timeout=2)\n"
                          "    open('/tmp/v/net', 'w').write('reached')\n"
                          "except OSError:\n"
                          "    pass\n").encode()


@pytest.mark.docker
def test_a_sound_upload_passes_in_the_sandbox_and_approval_adds_it(world, queued, docker_sandbox):
    from catalog.services import course_exercise_create

    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip())
    assert import_validate(import_id=imported.pk, sandbox_factory=lambda queue: docker_sandbox) == "passed"
    imported.refresh_from_db()
    report = imported.report
    assert report["ok"] and report["title"] == "The reparameterization trick" and report["max_score"] == 14
    names = [c["name"] for c in report["cases"]]
    assert names[0] == "solution" and report["cases"][0]["score"] == 14
    assert sum(n.startswith("wrong/") for n in names) >= 6 and all(c["ok"] for c in report["cases"])
    exercise = import_approve(exercise_import=imported, by=world.instructor, note="read it")
    assert exercise.slug == "my-reparam" and exercise.current_version.version == report["version"]
    assert exercise.current_version.bundle is not None and exercise.current_version.max_score == 14
    ce = course_exercise_create(course=world.course, exercise=exercise, points=10)
    assert ce.exercise.current_version.title == "The reparameterization trick"
    assert ExerciseImport.objects.get().status == "approved"


@pytest.mark.docker
def test_a_mislabelled_case_fails_validation_and_cannot_be_approved(world, queued, docker_sandbox):
    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip(edit=_mislabel))
    assert import_validate(import_id=imported.pk, sandbox_factory=lambda queue: docker_sandbox) == "failed"
    imported.refresh_from_db()
    bad = [c for c in imported.report["cases"] if not c["ok"]]
    assert len(bad) == 1 and bad[0]["name"].startswith("wrong/") and "mean" in bad[0]["expected"]
    with pytest.raises(ValidationError):
        import_approve(exercise_import=imported, by=world.instructor)


@pytest.mark.docker
def test_an_uploads_code_runs_only_inside_the_sandbox(world, queued, docker_sandbox):
    marker = Path("/tmp/dgm-import-escaped")
    marker.unlink(missing_ok=True)
    imported = import_create(user=world.instructor, filename="x.zip", data=folder_zip(edit=_hostile_checks))
    import_validate(import_id=imported.pk, sandbox_factory=lambda queue: docker_sandbox)
    imported.refresh_from_db()
    assert not marker.exists(), "the upload's checks.py ran outside the sandbox"
    # Inside, /tmp is the container's own: the validation went on (no network, nothing reached).
    assert imported.report["cases"] and imported.status == "passed"
