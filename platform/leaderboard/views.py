"""The leaderboard pages: the board of a training exercise, its CSV export, the student's choice of
entry and the instructor's moderation."""
from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from courses.exports import csv_cell

from .private import board_reveal_request
from .selectors import (
    CSV_HEADER,
    course_exercise_get_for_board,
    entry_get_for_instructor,
    entry_get_for_owner,
    leaderboard_csv_rows,
    leaderboard_for_viewer,
    memorisation_pairs_png,
    memorisation_report,
)
from .services import (
    leaderboard_choice_clear,
    leaderboard_entry_choose,
    leaderboard_entry_disqualify,
    leaderboard_entry_reinstate,
    leaderboard_entry_review,
)

# The largest id a database row can have (a signed 64-bit integer). A URL's <int:...> is any run of digits:
# a bigger one would overflow the database driver (a 500) instead of finding nothing (a 404).
MAX_ID = 2**63 - 1


def _entry_for_owner(user, submission_id: int):
    if not 0 < submission_id <= MAX_ID:
        raise Http404("No leaderboard entry")
    return entry_get_for_owner(user=user, submission_id=submission_id)


def _entry_for_instructor(user, submission_id: int):
    if not 0 < submission_id <= MAX_ID:
        raise Http404("No leaderboard entry")
    return entry_get_for_instructor(user=user, submission_id=submission_id)


TEXT_COLUMNS = {"board", "kind", "username", "name", "pseudonym", "fid_label", "profile", "device", "status",
                "reason"}


@login_required
def board(request, course_slug, exercise_slug):
    ce, role = course_exercise_get_for_board(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    return render(request, "leaderboard/board.html", {
        "ce": ce, "course": ce.course, "version": ce.exercise.current_version,
        "board": leaderboard_for_viewer(course_exercise=ce, user=request.user, instructor=role == "instructor")})


@login_required
def board_csv(request, course_slug, exercise_slug):
    ce, role = course_exercise_get_for_board(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    if role != "instructor":
        raise Http404("No such page")
    rows = leaderboard_csv_rows(board=leaderboard_for_viewer(course_exercise=ce, user=request.user, instructor=True))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ce.course.slug}-{ce.exercise.slug}-leaderboard.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    text = [name in TEXT_COLUMNS for name in CSV_HEADER]
    for row in rows:
        writer.writerow([csv_cell(value) if is_text else ("" if value is None else value)
                         for value, is_text in zip(row, text, strict=True)])
    return response


def _back(request, entry):
    if request.POST.get("next") == "board":
        return redirect("leaderboard:board", entry.course_exercise.course.slug, entry.course_exercise.exercise.slug)
    return redirect("submission-detail", submission_id=entry.submission_id)


@login_required
@require_POST
def choose(request, submission_id):
    entry = _entry_for_owner(request.user, submission_id)
    try:
        leaderboard_entry_choose(user=request.user, entry=entry)
        messages.success(request, "This submission is now your leaderboard entry.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, entry)


@login_required
@require_POST
def clear_choice(request, submission_id):
    entry = _entry_for_owner(request.user, submission_id)
    leaderboard_choice_clear(user=request.user, course_exercise=entry.course_exercise)
    messages.success(request, "Your best submission is your leaderboard entry again.")
    return _back(request, entry)


@login_required
@require_POST
def disqualify(request, submission_id):
    entry = _entry_for_instructor(request.user, submission_id)
    if request.POST.get("confirm") != "1":  # the form's required box: a disqualification is never one stray click
        messages.error(request, f"Tick the box to confirm that #{entry.submission_id} leaves the leaderboard.")
        return _back(request, entry)
    try:
        leaderboard_entry_disqualify(entry=entry, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"Submission #{entry.submission_id} is off the leaderboard.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, entry)


@login_required
@require_POST
def reinstate(request, submission_id):
    entry = _entry_for_instructor(request.user, submission_id)
    leaderboard_entry_reinstate(entry=entry)
    messages.success(request, f"Submission #{entry.submission_id} is back on the leaderboard.")
    return _back(request, entry)


@login_required
@require_POST
def reveal(request, course_slug, exercise_slug):
    ce, role = course_exercise_get_for_board(user=request.user, course_slug=course_slug, exercise_slug=exercise_slug)
    if role != "instructor":
        raise Http404("No such page")
    try:
        board_reveal_request(course_exercise=ce, by=request.user)
        messages.success(request, "The private board is being scored: each entry is sampled again with new seeds. "
                                  "Students see it once every entry is scored.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("leaderboard:board", course_slug, exercise_slug)


@login_required
def memorisation(request, submission_id):
    entry = _entry_for_instructor(request.user, submission_id)
    return render(request, "leaderboard/memorisation.html", {
        "entry": entry, "ce": entry.course_exercise, "course": entry.course_exercise.course,
        "report": memorisation_report(entry=entry)})


@login_required
def memorisation_pairs(request, submission_id):
    entry = _entry_for_instructor(request.user, submission_id)
    png = memorisation_pairs_png(entry=entry)
    if png is None:
        raise Http404("No memorisation report")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def review(request, submission_id):
    entry = _entry_for_instructor(request.user, submission_id)
    decision = request.POST.get("decision", "")
    try:
        leaderboard_entry_review(entry=entry, by=request.user, decision=decision, reason=request.POST.get("reason", ""))
        messages.success(request, f"Submission #{entry.submission_id}: the flag is {decision}"
                                  + (" and the entry is on the board." if decision == "cleared" else "."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("leaderboard:memorisation", submission_id=entry.submission_id)
