"""Reads for submissions, including what a viewer may see of a result."""
from __future__ import annotations

import base64
import binascii
import math
from collections import Counter

from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from catalog.models import CourseExercise
from courses import deadlines
from courses.models import Enrollment
from courses.permissions import can_grade
from workers.selectors import submission_run_state, submission_wait

from .models import Submission

HIDDEN_TITLE = "Hidden check"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_visibility(test: dict, overrides: dict | None) -> str:
    """A check's visibility in a course: the course's override, else the exercise's own."""
    return (overrides or {}).get(test.get("name"), test.get("visibility", "visible"))


def submission_get_for_viewer(*, user, submission_id: int) -> tuple[Submission, bool]:
    """The submission and whether the viewer sees the course's work (an instructor of its course, or staff).

    Only its owner, the course's instructors and staff see it; everyone else (a peer
    in the same course, an outsider) gets a 404, which does not reveal that it exists."""
    sub = (Submission.objects.select_related("course_exercise__course", "course_exercise__exercise",
                                             "exercise_version", "user")
           .filter(pk=submission_id).first())
    if sub is None or not user.is_authenticated:
        raise Http404("No such submission")
    instructor = can_grade(user=user, course=sub.course_exercise.course)  # instructors, TAs, staff
    if sub.user_id != user.pk and not instructor:
        raise Http404("No such submission")
    return sub, instructor


def result_for_viewer(*, result: dict | None, course_exercise: CourseExercise, full: bool, now=None,
                      owner=None) -> dict | None:
    """The result JSON with the content of hidden checks removed before the due date.

    `visible` checks are always shown. Before the due date the student sees that a
    hidden or after-due-date check exists and its points, nothing else, and the
    score counts visible checks only (the total would reveal the hidden ones).
    After the due date `after_due_date` checks are shown in full, and `hidden`
    ones show their score but never their content."""
    if result is None or full:
        return result
    now = now or timezone.now()
    # the owner's own deadline (an extension moves it): hidden content is not shown while they may still submit
    past_due = deadlines.is_past_due(course_exercise=course_exercise, now=now, user=owner)
    tests, hidden_points, withheld = [], 0.0, False
    for index, test in enumerate(result.get("tests", [])):
        visibility = check_visibility(test, getattr(course_exercise, "check_visibility", None))
        if visibility == "visible" or (visibility == "after_due_date" and past_due):
            tests.append({**test, "visibility": visibility})
            continue
        placeholder = {"name": f"hidden-{index + 1}", "title": HIDDEN_TITLE, "max_score": test.get("max_score"),
                       "visibility": visibility, "status": "hidden", "score": None, "output": ""}
        if past_due:  # a hidden check's score after the due date, never its content
            placeholder.update(score=test.get("score"), status=test.get("status"))
        else:
            hidden_points += float(test.get("max_score") or 0)
            withheld = True
        tests.append(placeholder)
    filtered = {key: result.get(key)
                for key in ("status", "max_score", "execution_time", "output", "untrusted", "leaderboard", "training")}
    filtered["tests"] = tests
    if withheld:
        filtered["score"] = sum(float(t["score"]) for t in tests if t.get("score") is not None)
        filtered["score_is_partial"] = True
        filtered["hidden_points"] = hidden_points
    else:
        filtered["score"] = result.get("score")
        filtered["score_is_partial"] = False
    return filtered


def _sample_grid_as_url(result: dict | None, submission_id: int) -> dict | None:
    """A training result's sample grid (a base64 PNG in the stored result) is served by its own view."""
    training = (result or {}).get("training")
    if not isinstance(training, dict) or "sample_grid_png" not in training:
        return result
    public = {key: value for key, value in training.items() if key != "sample_grid_png"}
    if isinstance(public.get("memorisation"), dict):  # the report's pairs are the instructor's, on their own page
        public["memorisation"] = {k: v for k, v in public["memorisation"].items() if k != "pairs_png"}
    if training["sample_grid_png"]:
        public["sample_grid_url"] = reverse("submission-sample-grid", args=[submission_id])
    return {**result, "training": public}


def decode_png(encoded) -> bytes | None:
    """PNG bytes from base64 made by the trusted judge, or None for anything else."""
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        png = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return None
    return png if png.startswith(PNG_SIGNATURE) else None


def submission_sample_grid_png(*, submission: Submission) -> bytes | None:
    """The PNG bytes of a training result's sample grid (made by the trusted judge), or None."""
    training = (submission.result or {}).get("training")
    return decode_png(training.get("sample_grid_png") if isinstance(training, dict) else None)


def submission_to_dict(*, submission: Submission, full: bool, now=None) -> dict:
    ce = submission.course_exercise
    return {
        "id": submission.pk,
        "course": ce.course.slug,
        "exercise": ce.exercise.slug,
        "exercise_version": submission.exercise_version.version,
        "filename": submission.filename,
        "status": submission.status,
        "is_late": submission.is_late,
        "created_at": submission.created_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
        "counts_as_attempt": submission.status not in Submission.FREE,
        "can_cancel": submission.is_pending,
        "wait": submission_wait(submission=submission, now=now),
        "running": submission_run_state(submission=submission, now=now),
        "result": _sample_grid_as_url(result_for_viewer(result=submission.result, course_exercise=ce, full=full,
                                                        now=now, owner=submission.user_id), submission.pk),
    }


def submission_list(*, user, course_exercise: CourseExercise):
    return Submission.objects.filter(user=user, course_exercise=course_exercise).defer("data")


def late_penalty_fraction(*, course_exercise: CourseExercise, is_late: bool, submitted_at=None,
                          user=None) -> float:
    """The late policy: `late_penalty` once, plus `late_penalty_per_day` for each started day after
    the deadline, at most everything. Submissions after the late cutoff are refused at upload. With
    `user`, counted from that student's own deadline (courses/deadlines.py: an extension moves it)."""
    if not is_late:
        return 0.0
    if user is not None and submitted_at is not None and course_exercise.deadline is not None:
        return deadlines.late_penalty_fraction(course_exercise=course_exercise, user=user, submitted_at=submitted_at)
    days = 1
    if submitted_at is not None and course_exercise.deadline is not None:
        late_s = (submitted_at - course_exercise.deadline).total_seconds()
        days = max(1, math.ceil(late_s / 86400))
    return min(1.0, course_exercise.late_penalty + course_exercise.late_penalty_per_day * days)


def submission_points(*, score: float | None, max_score: float | None, is_late: bool,
                      course_exercise: CourseExercise, submitted_at=None, user=None) -> float | None:
    """The exercise's score scaled to the course's points, less the late penalty."""
    if score is None or not max_score:
        return None
    points = course_exercise.points * score / max_score
    return points * (1 - late_penalty_fraction(course_exercise=course_exercise, is_late=is_late,
                                               submitted_at=submitted_at, user=user))


def best_scores_for_user(*, user, course, now=None) -> dict[int, dict]:
    """course_exercise id -> {score, points}: the best the student may see now.

    Before the due date only the visible checks count (the total would reveal hidden ones)."""
    now = now or timezone.now()
    best: dict[int, dict] = {}
    subs = (Submission.objects.filter(user=user, course_exercise__course=course, status__in=Submission.FINISHED)
            .select_related("course_exercise").only("score", "visible_score", "max_score", "is_late",
                                                    "created_at", "course_exercise"))
    for sub in subs:
        ce = sub.course_exercise
        past_due = deadlines.is_past_due(course_exercise=ce, now=now, user=user)  # their own deadline
        score = sub.score if past_due else sub.visible_score
        points = submission_points(score=score, max_score=sub.max_score, is_late=sub.is_late, course_exercise=ce,
                                   submitted_at=sub.created_at, user=user)
        current = best.get(ce.id)
        if score is not None and (current is None or (points or 0) > (current["points"] or 0)
                                  or ((points or 0) == (current["points"] or 0) and score > current["score"])):
            best[ce.id] = {"score": score, "points": points}
    return best


def course_submission_counts(*, course) -> list[dict]:
    """Per exercise: submissions, students who submitted, and how many finished with full marks."""
    from django.db.models import Count, F, Q

    return list(CourseExercise.objects.filter(course=course).annotate(
        n_submissions=Count("submissions"),
        students=Count("submissions__user", distinct=True),
        pending=Count("submissions", filter=Q(submissions__status__in=Submission.PENDING)),
        full_marks=Count("submissions", filter=Q(submissions__score__gte=F("submissions__max_score"),
                                                 submissions__status=Submission.Status.GRADED)),
    ).select_related("exercise").values("id", "exercise__slug", "n_submissions", "students", "pending", "full_marks"))


def course_exercise_stats(*, course_exercise: CourseExercise) -> dict:
    """The instructor's dashboard of one exercise: submissions, students who attempted it, and per
    check how often it passed (over finished gradings) and how often it failed, most failed first."""
    subs = list(Submission.objects.filter(course_exercise=course_exercise).defer("data"))
    finished = [s for s in subs if s.status in Submission.FINISHED]
    passed, failed, seen = Counter(), Counter(), Counter()
    titles: dict[str, str] = {}
    for version_check in (course_exercise.exercise.current_version.checks
                          if course_exercise.exercise.current_version else []):
        titles[version_check["name"]] = version_check["title"]
    for sub in finished:
        for test in (sub.result or {}).get("tests", []):
            name = test.get("name")
            titles.setdefault(name, test.get("title") or name)
            seen[name] += 1
            if test.get("status") == "passed":
                passed[name] += 1
            else:
                failed[name] += 1
    checks = [{"name": name, "title": titles.get(name, name), "graded": seen[name], "passed": passed[name],
               "failed": failed[name], "pass_rate": passed[name] / seen[name] if seen[name] else None}
              for name in titles]
    full = sum(1 for s in finished if s.score is not None and s.max_score and s.score >= s.max_score)
    return {
        "submissions": len(subs),
        "students": len({s.user_id for s in subs}),
        "pending": sum(1 for s in subs if s.is_pending),
        "finished": len(finished),
        "infrastructure_errors": sum(1 for s in subs if s.status == Submission.Status.INFRASTRUCTURE_ERROR),
        "full_marks": full,
        "checks": checks,
        "most_failed": [c for c in sorted(checks, key=lambda c: (-c["failed"], c["name"])) if c["failed"]][:5],
    }


def course_exercise_submissions(*, course_exercise: CourseExercise):
    """Every student's submissions of an exercise, newest first, for the instructor."""
    return (Submission.objects.filter(course_exercise=course_exercise).select_related("user")
            .defer("data", "result"))


def course_grades(*, course) -> tuple[list[CourseExercise], list[dict]]:
    """Grades for export: one row per student, the best points per exercise with the late policy
    applied (all checks count: this is the instructor's view). Students without a grade get None."""
    exercises = list(CourseExercise.objects.filter(course=course).select_related("exercise"))
    students = list(Enrollment.objects.filter(course=course, role=Enrollment.Role.STUDENT)
                    .select_related("user").order_by("user__username"))
    best: dict[tuple[int, int], float] = {}
    subs = (Submission.objects.filter(course_exercise__course=course, status__in=Submission.FINISHED)
            .only("user_id", "course_exercise_id", "score", "max_score", "is_late", "created_at"))
    by_id = {ce.id: ce for ce in exercises}
    for sub in subs:
        points = submission_points(score=sub.score, max_score=sub.max_score, is_late=sub.is_late,
                                   course_exercise=by_id[sub.course_exercise_id], submitted_at=sub.created_at)
        key = (sub.user_id, sub.course_exercise_id)
        if points is not None and points > best.get(key, -1.0):
            best[key] = points
    rows = [{"user": e.user, "points": [best.get((e.user_id, ce.id)) for ce in exercises]} for e in students]
    return exercises, rows


def visible_max_score(*, course_exercise: CourseExercise, version) -> float:
    """The check points a student sees before the due date: the visible checks' (with the course's
    overrides), so that perfect visible work reads as full marks, not 13 / 19."""
    return sum(float(c.get("points") or 0) for c in (version.checks if version else [])
               if check_visibility(c, course_exercise.check_visibility) == "visible")
