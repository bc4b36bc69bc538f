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


def course_get_for_instructor(*, user, slug: str) -> Course:
    """The course, for its instructors only; a 404 for students, other courses' instructors and outsiders."""
    course = get_object_or_404(Course, slug=slug)
    if enrollment_role(user=user, course=course) != Enrollment.Role.INSTRUCTOR:
        from django.http import Http404

        raise Http404("No such page")
    return course
