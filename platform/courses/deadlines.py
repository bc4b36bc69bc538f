"""A student's deadline, late cutoff, lateness, late penalty and attempt limit for one course exercise,
with their extension (courses.models.Extension) applied. Every rule about "when is it due for this
student" and "how many attempts does this student have" lives here, so the upload check, the late
flag, the late penalty, the gradebook and the pages the student reads all agree.

An extension moves the student's deadline; a late window (the exercise's hard cutoff after the
deadline) keeps its length, so it moves by as much. Extra attempts add to the exercise's total limit
(`max_submissions`); the per-day limit stays as it is. An extension never shortens anything: a deadline
earlier than the exercise's own is ignored.

The late penalty is the exercise's late policy counted from the student's deadline: `late_penalty`
once, plus `late_penalty_per_day` for each started day after it, at most everything.
"""
from __future__ import annotations

import math

from .models import Extension

_UNSET = object()


def extension_get(*, course_exercise, user) -> Extension | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return Extension.objects.filter(course_exercise=course_exercise, user=user).first()


def extensions_for_course(*, course) -> dict[tuple[int, int], Extension]:
    """(course_exercise id, user id) -> extension, for every extension in the course (one query)."""
    return {(e.course_exercise_id, e.user_id): e
            for e in Extension.objects.filter(course_exercise__course=course)}


def _extension(course_exercise, user, extension):
    return extension_get(course_exercise=course_exercise, user=user) if extension is _UNSET else extension


def _shift(course_exercise, extension) -> object | None:
    """How far the extension moves the deadline (a timedelta), or None when it does not."""
    if extension is None or extension.deadline is None or course_exercise.deadline is None:
        return None
    delta = extension.deadline - course_exercise.deadline
    return delta if delta.total_seconds() > 0 else None


def effective_deadline(*, course_exercise, user=None, extension=_UNSET):
    """The student's deadline (None: no deadline). `extension` may be passed when already loaded."""
    shift = _shift(course_exercise, _extension(course_exercise, user, extension))
    return course_exercise.deadline + shift if shift else course_exercise.deadline


def effective_late_deadline(*, course_exercise, user=None, extension=_UNSET):
    """The student's hard cutoff for late submissions (None: late submissions are not accepted)."""
    if course_exercise.late_deadline is None:
        return None
    shift = _shift(course_exercise, _extension(course_exercise, user, extension))
    return course_exercise.late_deadline + shift if shift else course_exercise.late_deadline


def submission_cutoff(*, course_exercise, user=None, extension=_UNSET):
    """After this moment the student's uploads are refused (None: never)."""
    extension = _extension(course_exercise, user, extension)
    return (effective_late_deadline(course_exercise=course_exercise, extension=extension)
            or effective_deadline(course_exercise=course_exercise, extension=extension))


def is_late(*, course_exercise, at, user=None, extension=_UNSET) -> bool:
    deadline = effective_deadline(course_exercise=course_exercise, user=user, extension=extension)
    return deadline is not None and at > deadline


def is_past_due(*, course_exercise, now, user=None, extension=_UNSET) -> bool:
    """Whether the student's deadline has passed (what reveals after-due-date checks to them)."""
    return is_late(course_exercise=course_exercise, at=now, user=user, extension=extension)


def penalty_fraction(*, course_exercise, deadline, submitted_at) -> float:
    """The late policy against `deadline` (the student's, from effective_deadline)."""
    if deadline is None or submitted_at is None or submitted_at <= deadline:
        return 0.0
    days = max(1, math.ceil((submitted_at - deadline).total_seconds() / 86400))
    return min(1.0, course_exercise.late_penalty + course_exercise.late_penalty_per_day * days)


def late_penalty_fraction(*, course_exercise, submitted_at, user=None, extension=_UNSET) -> float:
    deadline = effective_deadline(course_exercise=course_exercise, user=user, extension=extension)
    return penalty_fraction(course_exercise=course_exercise, deadline=deadline, submitted_at=submitted_at)


def attempts_allowed(*, course_exercise, user=None, extension=_UNSET) -> int | None:
    """The student's total submission limit (None: unlimited)."""
    if course_exercise.max_submissions is None:
        return None
    extension = _extension(course_exercise, user, extension)
    return course_exercise.max_submissions + (extension.extra_attempts if extension else 0)
