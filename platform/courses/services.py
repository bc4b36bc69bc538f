"""Writes for courses and enrolments."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Course, Enrollment


def course_create(*, slug: str, title: str, description: str = "", instructor=None) -> Course:
    with transaction.atomic():
        course = Course(slug=slug, title=title, description=description)
        course.full_clean()
        course.save()
        if instructor is not None:
            enrollment_create(user=instructor, course=course, role=Enrollment.Role.INSTRUCTOR)
    return course


def enrollment_create(*, user, course: Course, role: str = Enrollment.Role.STUDENT) -> Enrollment:
    if role not in Enrollment.Role.values:
        raise ValidationError(f"unknown role {role!r}")
    enrollment, created = Enrollment.objects.get_or_create(user=user, course=course, defaults={"role": role})
    if not created and enrollment.role != role:
        enrollment.role = role
        enrollment.save(update_fields=["role"])
    return enrollment


def course_join_by_invite(*, user, invite_code: str) -> Enrollment:
    course = Course.objects.filter(invite_code=invite_code.strip()).first()
    if course is None:
        raise ValidationError("No course has this invite code.")
    existing = Enrollment.objects.filter(user=user, course=course).first()
    return existing or enrollment_create(user=user, course=course, role=Enrollment.Role.STUDENT)
