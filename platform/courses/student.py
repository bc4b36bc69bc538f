"""What a student's course page shows: each exercise with their own deadline (an extension applied),
what is due next, and their course total."""
from __future__ import annotations

from django.utils import timezone

from catalog.selectors import course_exercise_list
from submissions.selectors import best_scores_for_user

from .deadlines import attempts_allowed, effective_deadline, submission_cutoff
from .models import Extension

DUE_NEXT = 3


def course_page_for_member(*, course, user, role: str, now=None) -> dict:
    now = now or timezone.now()
    # unpublished exercises for instructors only: catalog.selectors opens them to instructors, not TAs
    items = course_exercise_list(course=course, include_unpublished=role == "instructor")
    best = best_scores_for_user(user=user, course=course, now=now)
    extensions = {e.course_exercise_id: e for e in Extension.objects.filter(user=user, course_exercise__course=course)}
    rows = []
    for ce in items:
        extension = extensions.get(ce.id)
        rows.append({"ce": ce, "version": ce.exercise.current_version, "best": best.get(ce.id),
                     "extension": extension, "due": effective_deadline(course_exercise=ce, extension=extension),
                     "cutoff": submission_cutoff(course_exercise=ce, extension=extension),
                     "attempts": attempts_allowed(course_exercise=ce, extension=extension)})
    upcoming = sorted((r for r in rows if r["due"] is not None and r["due"] > now and r["ce"].published),
                      key=lambda r: r["due"])
    published = [r for r in rows if r["ce"].published]
    total = sum((r["best"] or {}).get("points") or 0 for r in published)
    return {"rows": rows, "due_next": upcoming[:DUE_NEXT], "total": total,
            "total_max": sum(r["ce"].points for r in published),
            "graded": sum(1 for r in published if r["best"] is not None), "count": len(published)}
