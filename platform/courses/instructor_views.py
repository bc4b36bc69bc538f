"""The instructor's pages: enrolment by CSV, the invite code, leaderboard pseudonyms, exercise settings,
the exercise dashboard, regrades and the grade export. Who may open which: courses/permissions.py
(TAs see and regrade, instructors also change; everyone else gets 404)."""
from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.models import CourseExercise
from catalog.services import course_exercise_update_settings
from submissions.models import Submission
from submissions.selectors import course_exercise_stats, course_exercise_submissions
from submissions.services import submission_regrade, submission_regrade_all

from .exports import csv_cell
from .forms import EnrolmentCsvForm, ExerciseSettingsForm
from .gradebook import gradebook
from .permissions import GRADE, MANAGE, course_get_for_staff
from .selectors import course_get_for_instructor, is_course_staff
from .services import course_enrol_from_csv, course_rotate_invite_code, course_set_leaderboard_pseudonyms
from .stats import exercise_student_stats


def _course_exercise(user, slug: str, exercise_slug: str, level: str = MANAGE) -> CourseExercise:
    course, _ = course_get_for_staff(user=user, slug=slug, level=level)
    return get_object_or_404(CourseExercise.objects.select_related("course", "exercise__current_version"),
                             course=course, exercise__slug=exercise_slug)


@login_required
def enrol_csv(request, slug):
    course = course_get_for_instructor(user=request.user, slug=slug)
    form, enrolled, errors = EnrolmentCsvForm(), None, []
    if request.method == "POST":
        form = EnrolmentCsvForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                enrolled = course_enrol_from_csv(course=course, data=form.cleaned_data["file"].read())
            except ValidationError as exc:
                errors = exc.messages
        else:
            errors = [e for field in form.errors.values() for e in field]
    response = render(request, "instructor/enrol.html", {"course": course, "form": form, "enrolled": enrolled,
                                                         "errors": errors},
                      status=400 if errors else 200)
    if enrolled:
        response["Cache-Control"] = "no-store"  # one-time passwords: shown once, never cached
    return response


@login_required
@require_POST
def invite_rotate(request, slug):
    course = course_get_for_instructor(user=request.user, slug=slug)
    course_rotate_invite_code(course=course)
    messages.success(request, "A new invite code is active; the old one no longer works.")
    return redirect("course-dashboard", slug=course.slug)


@login_required
@require_POST
def leaderboard_pseudonyms(request, slug):
    course = course_get_for_instructor(user=request.user, slug=slug)
    enabled = request.POST.get("enabled") == "1"
    course_set_leaderboard_pseudonyms(course=course, enabled=enabled)
    messages.success(request, "Leaderboards now show students under pseudonyms." if enabled
                     else "Leaderboards now show students' usernames.")
    return redirect("course-dashboard", slug=course.slug)


@login_required
def exercise_settings(request, slug, exercise_slug):
    ce = _course_exercise(request.user, slug, exercise_slug)
    version = ce.exercise.current_version
    checks = version.checks if version else []
    form_kwargs = {"checks": checks, "overrides": ce.check_visibility,
                   "training": bool(version and version.is_training)}
    if request.method == "POST":
        form = ExerciseSettingsForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                course_exercise_update_settings(course_exercise=ce, **form.service_kwargs())
                messages.success(request, "Settings saved.")
                return redirect("courses:exercise_dashboard", slug=slug, exercise_slug=exercise_slug)
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    target = {"late_penalty": "late_penalty_percent",
                              "late_penalty_per_day": "late_penalty_per_day_percent",
                              "check_visibility": None}.get(field, field)
                    for err in errs:
                        form.add_error(target if target in form.fields else None, err)
        status = 400
    else:
        form, status = ExerciseSettingsForm(initial=ExerciseSettingsForm.initial_for(ce), **form_kwargs), 200
    return render(request, "instructor/exercise_settings.html", {
        "ce": ce, "course": ce.course, "version": version, "form": form,
        "tz": timezone.get_current_timezone_name()}, status=status)


@login_required
def exercise_dashboard(request, slug, exercise_slug):
    ce = _course_exercise(request.user, slug, exercise_slug, level=GRADE)
    _, access = course_get_for_staff(user=request.user, slug=slug)
    stats, per_student = course_exercise_stats(course_exercise=ce), exercise_student_stats(course_exercise=ce)
    for check in stats["checks"]:
        check["students_passed"] = per_student["passed"].get(check["name"], 0)
    return render(request, "instructor/exercise_dashboard.html", {
        "ce": ce, "can_manage": access == MANAGE, "course": ce.course, "version": ce.exercise.current_version,
        "stats": stats, "per_student": per_student,
        "submissions": course_exercise_submissions(course_exercise=ce)[:500]})


def _regrade_at(request) -> str:
    """The instructor's choice: the exercise's current version, or the version a submission was made against."""
    return "submitted" if request.POST.get("at") == "submitted" else "current"


@login_required
def exercise_regrade_all_confirm(request, slug, exercise_slug):
    """Asks before regrading everything: how many gradings it queues, at which version (no JavaScript needed)."""
    ce = _course_exercise(request.user, slug, exercise_slug, level=GRADE)
    subs = Submission.objects.filter(course_exercise=ce)
    return render(request, "instructor/regrade_confirm.html", {
        "ce": ce, "course": ce.course, "version": ce.exercise.current_version,
        "at": "submitted" if request.GET.get("at") == "submitted" else "current",
        "count": subs.exclude(status__in=Submission.PENDING).count(),
        "pending": subs.filter(status__in=Submission.PENDING).count(),
        "students": subs.values("user_id").distinct().count()})


@login_required
@require_POST
def exercise_regrade_all(request, slug, exercise_slug):
    ce = _course_exercise(request.user, slug, exercise_slug, level=GRADE)
    at = _regrade_at(request)
    try:
        count = submission_regrade_all(course_exercise=ce, requested_by=request.user, at=at)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("courses:exercise_dashboard", slug=slug, exercise_slug=exercise_slug)
    where = "the version each was submitted against" if at == "submitted" else "the current version"
    messages.success(request, f"{count} submission{'s' if count != 1 else ''} queued for regrading at {where}.")
    return redirect("courses:exercise_dashboard", slug=slug, exercise_slug=exercise_slug)


@login_required
@require_POST
def regrade_submission(request, submission_id):
    sub = Submission.objects.select_related("course_exercise__course").filter(pk=submission_id).first()
    if sub is None or not is_course_staff(user=request.user, course=sub.course_exercise.course):
        raise Http404("No such submission")
    try:
        queued = submission_regrade(submission=sub, requested_by=request.user, at=_regrade_at(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if queued:
            messages.success(request, "Queued for regrading; the earlier result is kept in its history.")
        else:
            messages.error(request, "This submission is still being graded.")
    return redirect("submission-detail", submission_id=sub.pk)


@login_required
def grades_csv(request, slug):
    """The plain export (username, email, name, one column per exercise slug, total): the gradebook's
    numbers, so extensions and the late policy count the same way everywhere."""
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=GRADE)
    book = gradebook(course=course)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-grades.csv"'
    writer = csv.writer(response)
    writer.writerow(["username", "email", "name", *[c.ce.exercise.slug for c in book.columns], "total"])
    for row in book.rows:
        user = row.user
        writer.writerow([csv_cell(user.username), csv_cell(user.email), csv_cell(user.get_full_name()),
                         *["" if c.points is None else f"{c.points:.2f}" for c in row.cells], f"{row.total:.2f}"])
    return response
