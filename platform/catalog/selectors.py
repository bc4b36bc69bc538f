"""Reads for exercises and their course settings."""
from __future__ import annotations

from django.http import Http404

from courses.permissions import COURSE_STAFF_ROLES
from courses.selectors import enrollment_role

from .models import CourseExercise, ExerciseVersion


def course_exercise_list(*, course, include_unpublished: bool = False):
    qs = CourseExercise.objects.filter(course=course).select_related("exercise__current_version")
    return qs if include_unpublished else qs.filter(published=True)


def course_exercise_get_for_member(*, user, course_slug: str, exercise_slug: str) -> tuple[CourseExercise, str]:
    """404 unless the user is enrolled in the course and the exercise is visible to them."""
    ce = (CourseExercise.objects.select_related("course", "exercise__current_version")
          .filter(course__slug=course_slug, exercise__slug=exercise_slug).first())
    role = enrollment_role(user=user, course=ce.course) if ce else None
    if ce is None or role is None or (not ce.published and role not in COURSE_STAFF_ROLES):
        raise Http404("No such exercise")
    return ce, role


def version_budget_s(*, version: ExerciseVersion, profile: str = "") -> float:
    """How long one job of this version may take by its limits: the sandbox's wall clock for a function
    exercise, training plus sampling at `profile` for a training exercise (the status page flags jobs
    running longer; the submission page shows a training job's elapsed time against it)."""
    if version.is_training:
        chosen = version.training.get("profiles", {}).get(profile, {})
        return float((chosen.get("train_time_s") or 0) + (chosen.get("sample_time_s") or 0))
    return float(version.limits.get("wall_time_s") or 0)
