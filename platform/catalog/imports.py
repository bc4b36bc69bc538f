"""Exercise bundles uploaded in the web UI: stored untrusted, validated by a worker in a sandbox
(grader/exercise_import.py, the same `validate` as the CLI), and added to the catalogue only when
validation passed and an instructor or staff member approved it after reading its files.

Nothing of an upload is imported before approval: the web process only reads its zip and its
exercise.toml as data. Approval is what makes its checks.py trusted (an exercise's checks run on
the judge's side), so it is a person's decision, recorded with their name."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path, PurePosixPath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from courses.models import Enrollment
from grader.exercise_import import (
    ImportRefused,
    check_slug,
    extended_cores,
    read_spec_table,
    read_upload,
    validate_upload,
    write_folder,
)
from grader.spec import list_exercises, load_exercise

from .models import Exercise, ExerciseImport
from .services import exercise_sync

log = logging.getLogger(__name__)
FILE_VIEW_MAX_CHARS = 200_000


def can_import(user) -> bool:
    """Staff, and anyone who teaches a course (as an instructor), may upload and approve bundles."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Enrollment.objects.filter(user=user, role=Enrollment.Role.INSTRUCTOR).exists()


def _taken_slugs() -> set[str]:
    pending = ExerciseImport.objects.exclude(status__in=[ExerciseImport.Status.FAILED, ExerciseImport.Status.REJECTED])
    return (set(Exercise.objects.values_list("slug", flat=True)) | set(list_exercises())
            | set(pending.values_list("slug", flat=True)))


def import_create(*, user, filename: str, data: bytes) -> ExerciseImport:
    """Stores an upload and queues its validation; refuses at once what cannot be an exercise."""
    if not can_import(user):
        raise PermissionDenied("Only instructors and staff import exercises.")
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if not name.lower().endswith(".zip"):
        raise ValidationError("Upload a .zip of one exercise folder.")
    try:
        slug, files = read_upload(data)
        slug = check_slug(slug or name[:-4], _taken_slugs())
        extended_cores(read_spec_table(files))
    except ImportRefused as exc:
        raise ValidationError(str(exc)) from None
    imported = ExerciseImport.objects.create(slug=slug, filename=name[:200], data=data, uploaded_by=user)
    transaction.on_commit(lambda: import_enqueue(exercise_import=imported))
    return imported


def import_enqueue(*, exercise_import: ExerciseImport) -> None:
    from workers.queues import QUICK

    from .tasks import validate_exercise_import

    validate_exercise_import.apply_async(args=[exercise_import.pk], queue=QUICK)


def import_validate(*, import_id: int, sandbox_factory) -> str:
    """The worker's part: claim a queued import, validate it in a sandbox, store the report."""
    from grader.sandbox import SandboxUnavailable
    from workers.queues import QUICK

    claimed = ExerciseImport.objects.filter(pk=import_id, status=ExerciseImport.Status.QUEUED).update(
        status=ExerciseImport.Status.VALIDATING)
    if not claimed:
        return "not-claimed"
    imported = ExerciseImport.objects.get(pk=import_id)
    try:
        slug, files = read_upload(bytes(imported.data))
        report = validate_upload(imported.slug, files, sandbox_factory(QUICK)).to_dict()
    except ImportRefused as exc:
        report = {"slug": imported.slug, "ok": False, "error": str(exc), "cases": []}
    except SandboxUnavailable as exc:
        log.warning("import %s: sandbox unavailable: %s", import_id, exc)
        report = {"slug": imported.slug, "ok": False, "cases": [],
                  "error": f"The sandbox was unavailable ({exc}); validate it again later."}
    status = ExerciseImport.Status.PASSED if report.get("ok") else ExerciseImport.Status.FAILED
    ExerciseImport.objects.filter(pk=import_id).update(status=status, report=report, validated_at=timezone.now())
    return status


def import_revalidate(*, exercise_import: ExerciseImport, by) -> None:
    """A failed validation again (after the sandbox was unavailable, say)."""
    if not can_import(by):
        raise PermissionDenied("Only instructors and staff import exercises.")
    if exercise_import.status != ExerciseImport.Status.FAILED:
        raise ValidationError("Only a failed validation can be run again.")
    if exercise_import.slug in (_taken_slugs() - {exercise_import.slug}) or \
            Exercise.objects.filter(slug=exercise_import.slug).exists():
        raise ValidationError(f"An exercise named “{exercise_import.slug}” exists now; upload it under another name.")
    ExerciseImport.objects.filter(pk=exercise_import.pk).update(status=ExerciseImport.Status.QUEUED, report=None)
    transaction.on_commit(lambda: import_enqueue(exercise_import=exercise_import))


@transaction.atomic
def import_approve(*, exercise_import: ExerciseImport, by, note: str = "") -> Exercise:
    """Adds a validated upload to the catalogue, as the person who read it vouches for it."""
    if not can_import(by):
        raise PermissionDenied("Only instructors and staff approve exercises.")
    locked = ExerciseImport.objects.select_for_update().get(pk=exercise_import.pk)
    if locked.status != ExerciseImport.Status.PASSED:
        raise ValidationError("Only an upload whose validation passed can be approved.")
    if Exercise.objects.filter(slug=locked.slug).exists():
        raise ValidationError(f"An exercise named “{locked.slug}” exists already.")
    slug, files = read_upload(bytes(locked.data))
    cores = extended_cores(read_spec_table(files))
    with tempfile.TemporaryDirectory(prefix="dgm-import-") as scratch:
        root = write_folder(Path(scratch), locked.slug, files, cores)
        if load_exercise(locked.slug, root).version != (locked.report or {}).get("version"):
            raise ValidationError("The exercise's content is not the one that was validated; validate it again.")
        exercise_sync(slug=locked.slug, root=root)
    exercise = Exercise.objects.get(slug=locked.slug)
    ExerciseImport.objects.filter(pk=locked.pk).update(
        status=ExerciseImport.Status.APPROVED, decided_by=by, decided_at=timezone.now(), decision_note=note[:500],
        exercise=exercise)
    return exercise


def import_reject(*, exercise_import: ExerciseImport, by, note: str = "") -> None:
    if not can_import(by):
        raise PermissionDenied("Only instructors and staff decide on exercises.")
    if exercise_import.status in (ExerciseImport.Status.APPROVED, ExerciseImport.Status.REJECTED):
        raise ValidationError("This upload has been decided on already.")
    ExerciseImport.objects.filter(pk=exercise_import.pk).update(
        status=ExerciseImport.Status.REJECTED, decided_by=by, decided_at=timezone.now(), decision_note=note[:500])


def import_files(*, exercise_import: ExerciseImport) -> list[dict]:
    """The upload's files for review, as text (never rendered as HTML; templates escape it)."""
    try:
        _, files = read_upload(bytes(exercise_import.data))
    except ImportRefused as exc:
        return [{"name": "(unreadable)", "text": str(exc), "binary": True}]
    shown = []
    for name in sorted(files, key=lambda n: (n != "exercise.toml", n != "checks.py", n)):
        try:
            text = files[name].decode("utf-8")
        except UnicodeDecodeError:
            shown.append({"name": name, "text": f"({len(files[name]):,} bytes of binary data)", "binary": True})
            continue
        cut = len(text) > FILE_VIEW_MAX_CHARS
        shown.append({"name": name, "text": text[:FILE_VIEW_MAX_CHARS] + ("\n… (cut)" if cut else ""),
                      "binary": False, "python": name.endswith(".py")})
    return shown
