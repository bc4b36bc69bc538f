"""Extensions of one course exercise: TAs see them, instructors grant and revoke (courses/permissions.py)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.models import CourseExercise

from .deadlines import attempts_allowed, effective_deadline, effective_late_deadline
from .forms import ExtensionForm
from .models import Enrollment, Extension
from .permissions import GRADE, MANAGE, course_get_for_staff
from .services import extension_grant, extension_revoke


def _course_exercise(user, slug, exercise_slug, level):
    course, access = course_get_for_staff(user=user, slug=slug, level=level)
    ce = get_object_or_404(CourseExercise.objects.select_related("course", "exercise__current_version"),
                           course=course, exercise__slug=exercise_slug)
    return ce, access


def _students(ce) -> list[tuple[str, str]]:
    enrolments = (Enrollment.objects.filter(course=ce.course, role=Enrollment.Role.STUDENT).select_related("user")
                  .order_by("user__username"))
    return [(str(e.user_id), f"{e.user.username} ({e.user.get_full_name()})" if e.user.get_full_name()
             else e.user.username) for e in enrolments]


@login_required
def extensions(request, slug, exercise_slug):
    ce, access = _course_exercise(request.user, slug, exercise_slug, GRADE if request.method == "GET" else MANAGE)
    form, status = ExtensionForm(students=_students(ce)), 200
    if request.method == "POST":
        form = ExtensionForm(request.POST, students=_students(ce))
        if form.is_valid():
            data = form.cleaned_data
            student = get_object_or_404(get_user_model(), pk=int(data["student"]))
            try:
                extension_grant(course_exercise=ce, user=student, reason=data["reason"], deadline=data["deadline"],
                                extra_attempts=data["extra_attempts"] or 0, granted_by=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, f"Extension saved for {student.username}; they see it on the course page.")
                return redirect("courses:extensions", slug=slug, exercise_slug=exercise_slug)
        status = 400
    rows = [{"extension": e, "deadline": effective_deadline(course_exercise=ce, extension=e),
             "cutoff": effective_late_deadline(course_exercise=ce, extension=e),
             "attempts": attempts_allowed(course_exercise=ce, extension=e)}
            for e in Extension.objects.filter(course_exercise=ce).select_related("user", "granted_by")
            .order_by("user__username")]
    return render(request, "instructor/extensions.html", {
        "ce": ce, "course": ce.course, "version": ce.exercise.current_version, "rows": rows, "form": form,
        "can_manage": access == MANAGE, "tz": timezone.get_current_timezone_name()}, status=status)


@login_required
@require_POST
def extension_delete(request, slug, exercise_slug, extension_id):
    ce, _ = _course_exercise(request.user, slug, exercise_slug, MANAGE)
    if extension_revoke(course_exercise=ce, extension_id=extension_id):
        messages.success(request, "Extension revoked: the exercise's own deadline and limit apply again.")
    return redirect("courses:extensions", slug=slug, exercise_slug=exercise_slug)
