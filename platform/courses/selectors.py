"""Reads for courses and enrolments."""
from __future__ import annotations

from django.shortcuts import get_object_or_404

from .models import Course, Enrollment


def course_list_for_user(*, user):
    return Course.objects.filter(enrollments__user=user).order_by("title").distinct()


def enrollment_role(*, user, course: Course) -> str | None:
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course=course).values_list("role", flat=True).first()


def is_instructor(*, user, course: Course) -> bool:
    return enrollment_role(user=user, course=course) == Enrollment.Role.INSTRUCTOR


def course_get_for_member(*, user, slug: str) -> tuple[Course, str]:
    """The course and the user's role; a 404 for anyone not enrolled (an outsider learns nothing)."""
    course = get_object_or_404(Course, slug=slug)
    role = enrollment_role(user=user, course=course)
    if role is None:
        from django.http import Http404

        raise Http404("No such course")
    return course, role


def is_course_staff(*, user, course: Course) -> bool:
    """An instructor or a TA of the course, or site staff: sees every student's work (courses.permissions)."""
    from .permissions import can_grade

    return can_grade(user=user, course=course)


def course_get_for_instructor(*, user, slug: str) -> Course:
    """The course, for those who manage it (its instructors, site staff); a 403 for its TAs, a 404 for
    students, other courses' instructors and outsiders."""
    from .permissions import MANAGE, course_get_for_staff

    return course_get_for_staff(user=user, slug=slug, level=MANAGE)[0]


def course_members(*, course: Course):
    """Everyone enrolled, staff first (instructors, TAs), then students, by username."""
    order = {Enrollment.Role.INSTRUCTOR: 0, Enrollment.Role.TA: 1, Enrollment.Role.STUDENT: 2}
    members = list(Enrollment.objects.filter(course=course).select_related("user"))
    return sorted(members, key=lambda e: (order.get(e.role, 3), e.user.username.lower()))


def catalogue_choices(*, course: Course) -> list[tuple[str, str]]:
    """(slug, title) of every synced exercise not yet in the course, by title."""
    from catalog.models import Exercise

    exercises = (Exercise.objects.filter(current_version__isnull=False).exclude(course_exercises__course=course)
                 .select_related("current_version"))
    return sorted(((e.slug, e.current_version.title) for e in exercises), key=lambda c: c[1].lower())
