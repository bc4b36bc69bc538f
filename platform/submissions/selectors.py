"""Reads for submissions, including what a viewer may see of a result."""
from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from catalog.models import CourseExercise
from courses.models import Enrollment
from courses.selectors import enrollment_role

from .models import Submission

HIDDEN_TITLE = "Hidden check"


def submission_get_for_viewer(*, user, submission_id: int) -> tuple[Submission, bool]:
    """The submission and whether the viewer is an instructor of its course.

    Only its owner and the course's instructors see it; everyone else (a peer in
    the same course, an outsider) gets a 404, which does not reveal that it exists."""
    sub = (Submission.objects.select_related("course_exercise__course", "course_exercise__exercise",
                                             "exercise_version", "user")
           .filter(pk=submission_id).first())
    if sub is None or not user.is_authenticated:
        raise Http404("No such submission")
    instructor = enrollment_role(user=user, course=sub.course_exercise.course) == Enrollment.Role.INSTRUCTOR
    if sub.user_id != user.pk and not instructor:
        raise Http404("No such submission")
    return sub, instructor


def result_for_viewer(*, result: dict | None, course_exercise: CourseExercise, full: bool, now=None) -> dict | None:
    """The result JSON with the content of hidden checks removed before the due date.

    `visible` checks are always shown. Before the due date the student sees that a
    hidden or after-due-date check exists and its points, nothing else, and the
    score counts visible checks only (the total would reveal the hidden ones).
    After the due date `after_due_date` checks are shown in full, and `hidden`
    ones show their score but never their content."""
    if result is None or full:
        return result
    now = now or timezone.now()
    past_due = course_exercise.deadline is not None and now > course_exercise.deadline
    tests, hidden_points, withheld = [], 0.0, False
    for index, test in enumerate(result.get("tests", [])):
        visibility = test.get("visibility", "visible")
        if visibility == "visible" or (visibility == "after_due_date" and past_due):
            tests.append(test)
            continue
        placeholder = {"name": f"hidden-{index + 1}", "title": HIDDEN_TITLE, "max_score": test.get("max_score"),
                       "visibility": visibility, "status": "hidden", "score": None, "output": ""}
        if past_due:  # a hidden check's score after the due date, never its content
            placeholder.update(score=test.get("score"), status=test.get("status"))
        else:
            hidden_points += float(test.get("max_score") or 0)
            withheld = True
        tests.append(placeholder)
    filtered = {key: result.get(key) for key in ("status", "max_score", "execution_time", "output", "leaderboard")}
    filtered["tests"] = tests
    if withheld:
        filtered["score"] = sum(float(t["score"]) for t in tests if t.get("score") is not None)
        filtered["score_is_partial"] = True
        filtered["hidden_points"] = hidden_points
    else:
        filtered["score"] = result.get("score")
        filtered["score_is_partial"] = False
    return filtered


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
        "counts_as_attempt": submission.status != Submission.Status.INFRASTRUCTURE_ERROR,
        "result": result_for_viewer(result=submission.result, course_exercise=ce, full=full, now=now),
    }


def submission_list(*, user, course_exercise: CourseExercise):
    return Submission.objects.filter(user=user, course_exercise=course_exercise).defer("data")


def submission_points(*, score: float | None, max_score: float | None, is_late: bool,
                      course_exercise: CourseExercise) -> float | None:
    """The exercise's score scaled to the course's points, less the late penalty."""
    if score is None or not max_score:
        return None
    points = course_exercise.points * score / max_score
    return points * (1 - course_exercise.late_penalty) if is_late else points


def best_scores_for_user(*, user, course, now=None) -> dict[int, dict]:
    """course_exercise id -> {score, points}: the best the student may see now.

    Before the due date only the visible checks count (the total would reveal hidden ones)."""
    now = now or timezone.now()
    best: dict[int, dict] = {}
    subs = (Submission.objects.filter(user=user, course_exercise__course=course, status__in=Submission.FINISHED)
            .select_related("course_exercise").only("score", "visible_score", "max_score", "is_late",
                                                    "course_exercise"))
    for sub in subs:
        ce = sub.course_exercise
        past_due = ce.deadline is not None and now > ce.deadline
        score = sub.score if past_due else sub.visible_score
        points = submission_points(score=score, max_score=sub.max_score, is_late=sub.is_late, course_exercise=ce)
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
