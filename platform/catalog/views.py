from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from courses import deadlines
from submissions.selectors import submission_list, visible_max_score
from submissions.services import submission_attempts_used

from .markdown import markdown_to_safe_html
from .selectors import course_exercise_get_for_member


@login_required
def exercise_detail(request, course_slug, exercise_slug, form_error=None, status=200, editor_source=None,
                    loaded_from=None, upload_error=False):
    ce, role = course_exercise_get_for_member(user=request.user, course_slug=course_slug,
                                              exercise_slug=exercise_slug)
    version = ce.exercise.current_version
    extension = deadlines.extension_get(course_exercise=ce, user=request.user)  # the student's own deadline
    return render(request, "catalog/exercise.html", {
        "ce": ce, "course": ce.course, "role": role, "version": version,
        "statement_html": markdown_to_safe_html(version.statement_md, math=True),
        "editor_source": version.starter_py if editor_source is None else editor_source,
        "submissions": submission_list(user=request.user, course_exercise=ce)[:50],
        "attempts_used": submission_attempts_used(user=request.user, course_exercise=ce),
        "past_due": deadlines.is_past_due(course_exercise=ce, now=timezone.now(), user=request.user,
                                          extension=extension),
        "extension": extension,
        "deadline": deadlines.effective_deadline(course_exercise=ce, extension=extension),
        "late_deadline": deadlines.effective_late_deadline(course_exercise=ce, extension=extension),
        "attempts_allowed": deadlines.attempts_allowed(course_exercise=ce, extension=extension),
        "visible_max": visible_max_score(course_exercise=ce, version=version),
        "form_error": form_error, "upload_error": upload_error, "loaded_from": loaded_from,
    }, status=status)


@login_required
def starter_download(request, course_slug, exercise_slug, kind):
    ce, _ = course_exercise_get_for_member(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    version = ce.exercise.current_version
    if kind == "py":
        body, content_type, name = version.starter_py, "text/x-python; charset=utf-8", "starter.py"
    else:
        body, content_type, name = version.starter_ipynb, "application/x-ipynb+json", "starter.ipynb"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{ce.exercise.slug}-{name}"'
    return response
