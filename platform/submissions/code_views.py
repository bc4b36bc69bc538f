"""A submission's code for its owner and the course's staff: the files, a diff against an earlier
submission, the download, and loading it back into the exercise's editor; a training exercise's kit."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from catalog.selectors import course_exercise_get_for_member
from catalog.views import exercise_detail

from .code import code_diff, submission_cells, submission_earlier, submission_source
from .models import Submission
from .selectors import submission_get_for_viewer
from .training_kit import KitUnavailable, training_kit_zip


def _against(request, submission: Submission, earlier: list[Submission]) -> Submission | None:
    """The submission to diff against: ?against=<id> among the earlier ones, else the previous one."""
    wanted = request.GET.get("against", "")
    if not wanted:
        return earlier[0] if earlier else None
    if not wanted.isdigit() or len(wanted) > 18:
        raise Http404("No such submission")
    chosen = next((s for s in earlier if s.pk == int(wanted)), None)
    if chosen is None:
        raise Http404("No such submission")
    return Submission.objects.get(pk=chosen.pk)


@login_required
def submission_code(request, submission_id):
    submission, staff = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    cells, note = submission_cells(submission=submission)
    earlier = list(submission_earlier(submission=submission)[:100])
    against = _against(request, submission, earlier)
    return render(request, "submissions/code.html", {
        "submission": submission, "ce": submission.course_exercise, "cells": cells, "note": note,
        "earlier": earlier, "against": against, "staff": staff,
        "diff": code_diff(old=against, new=submission) if against else None,
        "own": submission.user_id == request.user.pk,
    })


@login_required
def submission_download(request, submission_id):
    """The file exactly as submitted, as an attachment that no browser renders."""
    submission, _ = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    response = HttpResponse(bytes(submission.data), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, submission.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def submission_load(request, submission_id):
    """The exercise page with this submission's code in the editor (the owner's own work only)."""
    submission, _ = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    if submission.user_id != request.user.pk:
        raise Http404("No such submission")
    ce = submission.course_exercise
    return exercise_detail(request, ce.course.slug, ce.exercise.slug, editor_source=submission_source(
        submission=submission), loaded_from=submission)


@login_required
def training_kit_download(request, course_slug, exercise_slug):
    """A training exercise's scaffold, reference modules and local runner, as a zip."""
    ce, _ = course_exercise_get_for_member(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    try:
        data = training_kit_zip(version=ce.exercise.current_version)
    except KitUnavailable:
        raise Http404("No training kit") from None
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"{ce.exercise.slug}-local.zip")
    return response
