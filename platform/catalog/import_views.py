"""The exercise-import pages: upload a bundle, read its validation report and files, approve or reject.
Anyone who may not import gets a 404, as for every instructor page."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .imports import (
    can_import,
    import_approve,
    import_create,
    import_files,
    import_reject,
    import_revalidate,
)
from .models import ExerciseImport

UPLOAD_MAX_BYTES = 8 * 1024 * 1024


def _require_importer(user) -> None:
    if not can_import(user):
        raise Http404("No such page")


def _get(user, import_id: int) -> ExerciseImport:
    _require_importer(user)
    return get_object_or_404(ExerciseImport.objects.select_related("uploaded_by", "decided_by", "exercise"),
                             pk=import_id)


@login_required
def import_list(request):
    _require_importer(request.user)
    error, status = None, 200
    if request.method == "POST":
        upload = request.FILES.get("bundle")
        try:
            if upload is None:
                raise ValidationError("Choose a .zip file.")
            if upload.size > UPLOAD_MAX_BYTES:
                raise ValidationError(f"The file is {upload.size:,} bytes; the limit is {UPLOAD_MAX_BYTES:,}.")
            imported = import_create(user=request.user, filename=upload.name, data=upload.read())
            return redirect("catalog-import-detail", import_id=imported.pk)
        except (ValidationError, PermissionDenied) as exc:
            error, status = " ".join(getattr(exc, "messages", [str(exc)])), 400
    imports = ExerciseImport.objects.select_related("uploaded_by", "exercise").defer("data")[:200]
    return render(request, "catalog/imports.html", {"imports": imports, "form_error": error}, status=status)


@login_required
def import_detail(request, import_id):
    imported = _get(request.user, import_id)
    report = imported.report or {}
    cases = report.get("cases") or []
    solution = cases[0] if cases and cases[0].get("name") == "solution" else None
    return render(request, "catalog/import_detail.html", {
        "imp": imported, "report": report, "cases": cases, "solution": solution,
        "failing": [c for c in cases if not c.get("ok")], "files": import_files(exercise_import=imported),
        "pending": imported.status in (ExerciseImport.Status.QUEUED, ExerciseImport.Status.VALIDATING),
    })


@login_required
@require_POST
def import_decide(request, import_id, decision):
    if decision not in ("approve", "reject", "revalidate"):
        raise Http404("No such page")
    imported = _get(request.user, import_id)
    note = request.POST.get("note", "")[:500]
    try:
        if decision == "approve":
            if request.POST.get("reviewed") != "yes":
                raise ValidationError("Tick the box to confirm that you read the files: approving makes its checks "
                                      "run as trusted code.")
            exercise = import_approve(exercise_import=imported, by=request.user, note=note)
            messages.success(request, f"“{exercise.slug}” is in the catalogue: add it to a course from the "
                                      "course's instructor pages.")
        elif decision == "reject":
            import_reject(exercise_import=imported, by=request.user, note=note)
            messages.info(request, "The upload was rejected.")
        else:
            import_revalidate(exercise_import=imported, by=request.user)
            messages.info(request, "Queued for validation again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("catalog-import-detail", import_id=imported.pk)
