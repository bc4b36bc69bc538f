"""The exercise dashboard counted per student (the submissions' own counts are submissions.selectors'):
a student who submits twenty times counts once. Only the course's students count (not staff trying it)."""
from __future__ import annotations

from collections import defaultdict

from submissions.models import Submission

from .models import Enrollment


def exercise_student_stats(*, course_exercise) -> dict:
    """enrolled, attempted (any submission that counts as an attempt), graded (a finished grading), full_marks
    (in at least one grading), and per check name how many graded students passed it at least once."""
    students = set(Enrollment.objects.filter(course_id=course_exercise.course_id, role=Enrollment.Role.STUDENT)
                   .values_list("user_id", flat=True))
    subs = (Submission.objects.filter(course_exercise=course_exercise, user_id__in=students)
            .exclude(status__in=Submission.FREE).only("user_id", "status", "score", "max_score", "result"))
    attempted, graded, full = set(), set(), set()
    passed: dict[str, set[int]] = defaultdict(set)
    for sub in subs:
        attempted.add(sub.user_id)
        if sub.status not in Submission.FINISHED:
            continue
        graded.add(sub.user_id)
        if sub.score is not None and sub.max_score and sub.score >= sub.max_score:
            full.add(sub.user_id)
        for test in (sub.result or {}).get("tests", []):
            if isinstance(test, dict) and test.get("status") == "passed":
                passed[str(test.get("name"))].add(sub.user_id)
    return {"enrolled": len(students), "attempted": len(attempted), "graded": len(graded),
            "full_marks": len(full), "passed": {name: len(users) for name, users in passed.items()}}
