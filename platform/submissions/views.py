from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.selectors import course_exercise_get_for_member, markdown_to_safe_html
from catalog.views import exercise_detail

from .selectors import submission_get_for_viewer, submission_to_dict
from .services import submission_create


@login_required
@require_POST
def submission_upload(request, course_slug, exercise_slug):
    ce, _ = course_exercise_get_for_member(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    upload = request.FILES.get("file")
    error = None
    if upload is None:
        error = "Choose a .py or .ipynb file to submit."
    elif upload.size > settings.SUBMISSION_MAX_BYTES:
        error = f"The file is {upload.size:,} bytes; the limit is {settings.SUBMISSION_MAX_BYTES:,}."
    else:
        try:
            submission = submission_create(user=request.user, course_exercise=ce, filename=upload.name,
                                           data=upload.read())
            return redirect("submission-detail", submission_id=submission.pk)
        except (ValidationError, PermissionDenied) as exc:
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return exercise_detail(request, course_slug, exercise_slug, form_error=error, status=400)


@login_required
def submission_detail(request, submission_id):
    submission, instructor = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    data = submission_to_dict(submission=submission, full=instructor)
    result = data["result"] or {}
    tests = [{**t, "output_html": markdown_to_safe_html(t.get("output") or "")} for t in result.get("tests", [])]
    return render(request, "submissions/detail.html", {
        "submission": submission, "ce": submission.course_exercise, "data": data, "result": result, "tests": tests,
        "output_html": markdown_to_safe_html(result.get("output") or ""),
        "data_json": {"id": submission.pk, "status": submission.status},
        "instructor": instructor,
    })
