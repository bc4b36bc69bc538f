"""GET /api/courses/<course>/exercises/<slug>/leaderboard/: the board as the page shows it to this user."""
from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from submissions.api import api_error, api_reader, api_unauthorized

from .selectors import course_exercise_get_for_board, leaderboard_for_viewer


def _json_row(row: dict) -> dict:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}


@require_GET
def leaderboard_api(request, course_slug: str, exercise_slug: str):
    user = api_reader(request)
    if user is None:
        return api_unauthorized()
    try:
        ce, role = course_exercise_get_for_board(user=user, course_slug=course_slug, exercise_slug=exercise_slug)
    except Http404:
        return api_error("No such leaderboard.", 404)
    board = leaderboard_for_viewer(course_exercise=ce, user=user, instructor=role == "instructor")
    if not board.visible:
        return api_error("The leaderboard of this exercise is shown after the deadline.", 403)
    body = {"course": ce.course.slug, "exercise": ce.exercise.slug, "profile": board.profile,
            "fid_label": board.fid_label, "n_samples": board.n_samples, "pseudonyms": board.pseudonyms,
            "board": "public", "rows": [_json_row(r) for r in board.rows],
            # the private board: once revealed (instructors also while it is being scored); never its seeds
            "reveal": board.reveal, "private_rows": [_json_row(r) for r in board.private_rows]}
    if board.instructor:
        body["flagged"] = [_json_row(r) for r in board.flagged]
        body["disqualified"] = [_json_row(r) for r in board.disqualified]
    return JsonResponse(body)
