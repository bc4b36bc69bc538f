"""Who may see a student's work: one rule, used by every view of a submission and its code."""
from __future__ import annotations

from courses.permissions import can_grade


def can_view_course_work(*, user, course) -> bool:
    """The course's instructors and TAs and the site's staff see every student's work (courses/permissions.py,
    the GRADE level); students only their own."""
    return can_grade(user=user, course=course)
