"""Who may see a student's work: one rule, used by every view of a submission and its code."""
from __future__ import annotations

from courses.models import Enrollment
from courses.selectors import enrollment_role

# Course roles whose members see every student's submissions and code (a TA role, once courses has
# one, belongs here too).
STAFF_ROLES = frozenset({Enrollment.Role.INSTRUCTOR})


def can_view_course_work(*, user, course) -> bool:
    """The course's instructors and the site's staff see every student's work; students only their own."""
    if not user.is_authenticated:
        return False
    return user.is_staff or enrollment_role(user=user, course=course) in STAFF_ROLES
