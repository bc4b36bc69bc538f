from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.markdown import markdown_to_safe_html
from catalog.selectors import course_exercise_get_for_member
from catalog.views import exercise_detail
from leaderboard.selectors import submission_training_panel

from .code import result_in_cells
from .selectors import submission_get_for_viewer, submission_points, submission_sample_grid_png, submission_to_dict
from .services import submission_cancel, submission_create
from .training_summary import training_summary

EDITOR_FILENAME = "solution.py"


def _feedback_html(markdown_text: str, untrusted: dict | None) -> str:
    """A check's Markdown, sanitised, with what the submission controls as escaped text; the hint
    paragraph marked so that it stands out."""
    html = markdown_to_safe_html(markdown_text, math=True, untrusted=untrusted)
    return html.replace("<p><strong>Hint:</strong>", '<p class="hint"><strong>Hint:</strong>')


def _grade(submission, result: dict) -> dict:
    """Check points and course points, never mixed: the checks' maximum the student can see now (the
    visible checks' while hidden ones are withheld), and the course points with the late policy."""
    score, max_score = result.get("score"), result.get("max_score")
    check_max = (float(max_score or 0) - float(result.get("hidden_points") or 0) if result.get("score_is_partial")
                 else max_score)
    on_time = submission_points(score=score, max_score=max_score, is_late=False,
                                course_exercise=submission.course_exercise)
    points = submission_points(score=score, max_score=max_score, is_late=submission.is_late,
                               course_exercise=submission.course_exercise, submitted_at=submission.created_at,
                               user=submission.user_id)
    return {"check_max": check_max, "points": points,
            "penalty": (on_time - points) if points is not None and on_time != points else 0}


@login_required
@require_POST
def submission_upload(request, course_slug, exercise_slug):
    ce, _ = course_exercise_get_for_member(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    upload = request.FILES.get("file")
    source = request.POST.get("source")  # the in-browser editor posts its text: it becomes solution.py
    error = None
    if upload is not None:
        size, filename = upload.size, upload.name
    elif source is not None:
        data, filename = source.replace("\r\n", "\n").encode(), EDITOR_FILENAME
        size = len(data)
        if not source.strip():
            error = "The editor is empty: write your solution first."
    else:
        error = "Choose a .py or .ipynb file to submit."
    if error is None and size > settings.SUBMISSION_MAX_BYTES:
        error = f"The file is {size:,} bytes; the limit is {settings.SUBMISSION_MAX_BYTES:,}."
    if error is None:
        try:
            submission = submission_create(user=request.user, course_exercise=ce, filename=filename,
                                           data=upload.read() if upload is not None else data)
            return redirect("submission-detail", submission_id=submission.pk)
        except (ValidationError, PermissionDenied) as exc:
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return exercise_detail(request, course_slug, exercise_slug, form_error=error, status=400, editor_source=source,
                           upload_error=source is None)


@login_required
def submission_detail(request, submission_id):
    submission, instructor = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    data = submission_to_dict(submission=submission, full=instructor)
    result = result_in_cells(result=data["result"] or {}, submission=submission)
    tests = [{**t, "output_html": _feedback_html(t.get("output") or "", t.get("untrusted"))}
             for t in result.get("tests", [])]
    grade = _grade(submission, result)
    score, check_max = result.get("score"), grade["check_max"]
    percent = round(100 * float(score) / float(check_max)) if score is not None and check_max else 0
    tally = {status: sum(t.get("status") == status for t in tests)
             for status in ("passed", "failed", "error", "hidden")}
    training = submission_training_panel(submission=submission, result=result, instructor=instructor)
    return render(request, "submissions/detail.html", {
        "submission": submission, "ce": submission.course_exercise, "data": data, "result": result, "tests": tests,
        "percent": percent, "tally": tally, "grade": grade, "pending": submission.is_pending,
        "output_html": markdown_to_safe_html(result.get("output") or "", untrusted=result.get("untrusted")),
        "data_json": {"id": submission.pk, "status": submission.status, "wait": data["wait"],
                      "running": data["running"], "api": reverse("api-submission-detail", args=[submission.pk])},
        "wait": data["wait"], "running": data["running"],
        "instructor": instructor,
        "training": training,
        "summary": training_summary(training["training"]) if training else None,
    })


@login_required
def submission_sample_grid(request, submission_id):
    """The sample grid of a training result as image/png: for the submission's owner and instructors."""
    submission, _ = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    png = submission_sample_grid_png(submission=submission)
    if png is None:
        raise Http404("No sample grid")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def submission_cancel_view(request, submission_id):
    """The owner (or an instructor) cancels a queued or running job; it costs no attempt."""
    submission, _ = submission_get_for_viewer(user=request.user, submission_id=submission_id)
    if submission_cancel(submission=submission, by=request.user):
        messages.success(request, "Cancelled. This submission does not count as an attempt.")
    else:
        messages.error(request, "This submission had already finished, so there was nothing to cancel.")
    return redirect("submission-detail", submission_id=submission.pk)
