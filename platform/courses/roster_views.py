"""Course staff pages: create a course, add exercises from the synced catalogue, the roster (roles,
co-instructors and TAs). Who may do what: courses/permissions.py."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import AddExerciseForm, AddStaffForm, CourseCreateForm
from .models import Course, Enrollment
from .permissions import GRADE, MANAGE, can_create_course, course_get_for_staff
from .selectors import catalogue_choices, course_members
from .services import (
    course_add_exercise,
    course_add_staff,
    course_create,
    enrollment_remove,
    enrollment_set_role,
)

RESERVED_SLUGS = frozenset({"join", "new"})  # /courses/join/ is a page of its own


@login_required
def course_new(request):
    if not can_create_course(user=request.user):
        raise PermissionDenied("Only instructors and site staff create courses.")
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["slug"].lower() in RESERVED_SLUGS:
            form.add_error("slug", "This short name is reserved; choose another.")
        elif Course.objects.filter(slug=data["slug"]).exists():
            form.add_error("slug", "A course already uses this short name.")
        else:
            try:
                course = course_create(slug=data["slug"], title=data["title"], description=data["description"],
                                       instructor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Course created: add exercises, then invite students.")
                return redirect("course-dashboard", slug=course.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "instructor/course_new.html", {"form": form}, status=status)


@login_required
@require_POST
def exercise_add(request, slug):
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=MANAGE)
    form = AddExerciseForm(request.POST, choices=catalogue_choices(course=course))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("course-dashboard", slug=course.slug)
    data = form.cleaned_data
    try:
        ce = course_add_exercise(course=course, exercise_slug=data["exercise"], points=data["points"],
                                 deadline=data["deadline"], published=data["published"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("course-dashboard", slug=course.slug)
    title = ce.exercise.current_version.title
    messages.success(request, f"“{title}” added" + ("." if ce.published else ", unpublished: publish it in its "
                                                    "settings when it is ready."))
    return redirect("course-dashboard", slug=course.slug)


@login_required
def roster(request, slug):
    course, access = course_get_for_staff(user=request.user, slug=slug, level=GRADE)
    return render(request, "instructor/roster.html", {
        "course": course, "can_manage": access == MANAGE, "members": course_members(course=course),
        "roles": Enrollment.Role.choices, "form": AddStaffForm()})


@login_required
@require_POST
def roster_add(request, slug):
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=MANAGE)
    form = AddStaffForm(request.POST)
    if form.is_valid():
        try:
            enrollment = course_add_staff(course=course, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{enrollment.user.username} is now {enrollment.get_role_display().lower()} "
                                      "of this course.")
    else:
        messages.error(request, "Give a username, an e-mail address and a role.")
    return redirect("courses:roster", slug=course.slug)


@login_required
@require_POST
def roster_change(request, slug, enrollment_id):
    """Changes a member's role (`role`) or removes them (`remove=1`)."""
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=MANAGE)
    enrollment = get_object_or_404(Enrollment.objects.select_related("user"), pk=enrollment_id, course=course)
    try:
        if request.POST.get("remove") == "1":
            enrollment_remove(course=course, enrollment=enrollment)
            messages.success(request, f"{enrollment.user.username} is no longer in this course.")
        else:
            changed = enrollment_set_role(course=course, enrollment=enrollment, role=request.POST.get("role", ""))
            messages.success(request, f"{enrollment.user.username} is now {changed.get_role_display().lower()}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("courses:roster", slug=course.slug)
