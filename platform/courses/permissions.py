"""Who may do what in a course: one table, used by every instructor page.

Two levels of course staff:

- **grade** (teaching assistants, instructors, site staff): see the instructor dashboard, every
  student's submissions and code, the exercise dashboards, the roster, the gradebook and its
  exports, the extensions granted, the similarity reports; regrade one submission or all of an
  exercise (grading here is the automatic grader, so "grading" means asking it again).
- **manage** (instructors and site staff only): change the course and exercise settings (deadlines,
  points, limits, visibility, publishing), add exercises, enrol students (CSV), rotate the invite
  code, switch leaderboard pseudonyms, add or remove co-instructors and TAs, and grant or revoke
  extensions (an extension changes a student's deadline and attempt limit, which are settings, and its
  reason is often a private matter between the student and the instructor).

Site staff (``is_staff``, the operators who can change everything in Django's admin anyway) have the
manage level in every course. Anyone else who is not a member gets a 404 (an outsider learns nothing
about the course); a member below the level a page needs (a student, or a TA on a manage page) gets a
403 when they are staff of the course (a TA knows the course exists), else a 404.

Creating a course: site staff and anyone who is already an instructor of some course. A student cannot
make a course of their own: its instructor would see the full results, hidden checks included, of the
exercises they add to it.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Course, Enrollment

GRADE, MANAGE = "grade", "manage"
# Course roles that see every student's work and may regrade it (submissions.selectors uses this too).
COURSE_STAFF_ROLES = frozenset({Enrollment.Role.INSTRUCTOR, Enrollment.Role.TA})
MANAGER_ROLES = frozenset({Enrollment.Role.INSTRUCTOR})


def course_access(*, user, course: Course) -> str | None:
    """MANAGE, GRADE or None (a student, an outsider, or not logged in)."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return MANAGE
    role = Enrollment.objects.filter(user=user, course=course).values_list("role", flat=True).first()
    if role in MANAGER_ROLES:
        return MANAGE
    if role in COURSE_STAFF_ROLES:
        return GRADE
    return None


def can_grade(*, user, course: Course) -> bool:
    return course_access(user=user, course=course) in (GRADE, MANAGE)


def can_manage(*, user, course: Course) -> bool:
    return course_access(user=user, course=course) == MANAGE


def require_access(*, user, course: Course, level: str) -> str:
    """The user's level in the course, or Http404 / PermissionDenied as described above."""
    access = course_access(user=user, course=course)
    if access == MANAGE or (access == GRADE and level == GRADE):
        return access
    if access == GRADE:
        raise PermissionDenied("Teaching assistants cannot change this course's settings.")
    raise Http404("No such page")


def course_get_for_staff(*, user, slug: str, level: str = GRADE) -> tuple[Course, str]:
    """The course and the user's level in it, for its staff at `level` or above."""
    course = get_object_or_404(Course, slug=slug)
    return course, require_access(user=user, course=course, level=level)


def can_create_course(*, user) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or Enrollment.objects.filter(user=user, role=Enrollment.Role.INSTRUCTOR).exists()
