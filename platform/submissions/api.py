"""The JSON API: POST /api/submissions/, GET /api/submissions/<id>/.

Auth: `Authorization: Token <token>` (a personal API token); GET also accepts
the browser's session, so the submission page can poll it."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import user_get_by_api_token
from catalog.models import CourseExercise
from courses.selectors import enrollment_role
from leaderboard.selectors import entry_standing

from .selectors import submission_get_for_viewer, submission_to_dict
from .services import submission_cancel, submission_create


def api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def token_user(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "token" or not token.strip():
        return None
    return user_get_by_api_token(token=token.strip())


def api_unauthorized() -> JsonResponse:
    response = api_error("Authentication required: send the header `Authorization: Token <your API token>`.", 401)
    response["WWW-Authenticate"] = "Token"
    return response


def _course_exercise_for(user, exercise_slug: str, course_slug: str) -> CourseExercise:
    qs = CourseExercise.objects.select_related("course", "exercise__current_version").filter(
        exercise__slug=exercise_slug, course__enrollments__user=user)
    if course_slug:
        qs = qs.filter(course__slug=course_slug)
    found = [ce for ce in qs if ce.published or enrollment_role(user=user, course=ce.course) == "instructor"]
    if not found:
        raise Http404
    if len(found) > 1:
        raise ValidationError("This exercise is in several of your courses: add the field `course` (its slug).")
    return found[0]


@csrf_exempt  # token-authenticated only: no cookie is ever used for a write here
@require_POST
def submission_create_api(request):
    user = token_user(request)
    if user is None:
        return api_unauthorized()
    exercise_slug = request.POST.get("exercise", "").strip()
    upload = request.FILES.get("file")
    if not exercise_slug or upload is None:
        return api_error("Send multipart form data with the fields `exercise` (its slug) and `file`.", 400)
    try:
        course_exercise = _course_exercise_for(user, exercise_slug, request.POST.get("course", "").strip())
    except Http404:
        return api_error(f"No exercise {exercise_slug!r} in your courses.", 404)
    except ValidationError as exc:
        return api_error(" ".join(exc.messages), 400)
    from django.conf import settings

    if upload.size > settings.SUBMISSION_MAX_BYTES:
        return api_error(f"The file is {upload.size:,} bytes; the limit is {settings.SUBMISSION_MAX_BYTES:,}.", 400)
    try:
        submission = submission_create(user=user, course_exercise=course_exercise, filename=upload.name,
                                       data=upload.read())
    except PermissionDenied as exc:
        return api_error(str(exc), 403)
    except ValidationError as exc:
        return api_error(" ".join(exc.messages), 400)
    body = submission_to_dict(submission=submission, full=False)
    body["url"] = request.build_absolute_uri(f"/api/submissions/{submission.pk}/")
    return JsonResponse(body, status=201)


def api_reader(request):
    """The user of a read: the token's, or the browser session's when no token is sent; None if neither."""
    user = token_user(request) if "Authorization" in request.headers else request.user
    return user if user is not None and user.is_authenticated else None


@require_GET
def submission_detail_api(request, submission_id: int):
    user = api_reader(request)
    if user is None:
        return api_unauthorized()
    try:
        submission, instructor = submission_get_for_viewer(user=user, submission_id=submission_id)
    except Http404:
        return api_error("No such submission.", 404)
    body = submission_to_dict(submission=submission, full=instructor)
    body["leaderboard_entry"] = entry_standing(submission=submission, instructor=instructor)
    return JsonResponse(body)


@csrf_exempt  # token-authenticated only
@require_POST
def submission_cancel_api(request, submission_id: int):
    """POST /api/submissions/<id>/cancel/: stop a queued or running job of your own (no attempt is charged)."""
    user = token_user(request)
    if user is None:
        return api_unauthorized()
    try:
        submission, instructor = submission_get_for_viewer(user=user, submission_id=submission_id)
    except Http404:
        return api_error("No such submission.", 404)
    if not submission_cancel(submission=submission, by=user):
        return api_error("This submission has already finished.", 409)
    submission.refresh_from_db()
    return JsonResponse(submission_to_dict(submission=submission, full=instructor))
