"""Writes for submissions: accept an upload, claim, grade, finish, retry, requeue.

State machine: queued -> running (claimed by exactly one worker, a conditional
UPDATE) -> graded/error/timeout/memory_limit (the student's result) or back to
queued (the platform failed: retried, never charged), and after too many
platform failures -> infrastructure_error (not charged either).
"""
from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import CourseExercise
from catalog.selectors import version_stale_after_s
from courses.models import Enrollment
from courses.selectors import enrollment_role
from grader.materialize import SubmissionError, materialize
from grader.sandbox.docker_sandbox import worker_identity
from leaderboard.services import leaderboard_entry_sync

from .models import Submission
from .selectors import check_visibility, claimed_by_dead_workers

log = logging.getLogger(__name__)
ALLOWED_SUFFIXES = (".py", ".ipynb")


def worker_name() -> str:
    return worker_identity()


def submission_validate_file(*, filename: str, data: bytes) -> None:
    """Everything we check before storing anything; the message is for the student."""
    name = os.path.basename(filename or "")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError("Submit a Python file (.py) or a Jupyter notebook (.ipynb).")
    limit = settings.SUBMISSION_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(f"The file is {len(data):,} bytes; the limit is {limit:,}.")
    if not data.strip():
        raise ValidationError("The file is empty.")
    try:
        materialize(name.lower() if name.lower().endswith(".ipynb") else name, data)
    except SubmissionError as exc:
        raise ValidationError(str(exc)) from None


def submission_attempts_used(*, user, course_exercise: CourseExercise, since=None) -> int:
    """Platform failures never count: a submission that ended in infrastructure_error is free."""
    qs = Submission.objects.filter(user=user, course_exercise=course_exercise)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.exclude(status=Submission.Status.INFRASTRUCTURE_ERROR).count()


def start_of_day(now) -> object:
    """Midnight of `now`'s calendar day in the site's time zone (TIME_ZONE): the per-day limit's window."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def submission_create(*, user, course_exercise: CourseExercise, filename: str, data: bytes, now=None) -> Submission:
    now = now or timezone.now()
    role = enrollment_role(user=user, course=course_exercise.course)
    if role is None:
        raise PermissionDenied("You are not enrolled in this course.")
    instructor = role == Enrollment.Role.INSTRUCTOR
    if not instructor:
        if not course_exercise.published or (course_exercise.opens_at and now < course_exercise.opens_at):
            raise ValidationError("This exercise is not open for submissions yet.")
        final = course_exercise.late_deadline or course_exercise.deadline
        if final is not None and now > final:
            raise ValidationError("The deadline for this exercise has passed.")
    submission_validate_file(filename=filename, data=data)
    version = course_exercise.exercise.current_version
    if version is None:
        raise ValidationError("This exercise is not available for grading yet.")
    with transaction.atomic():
        limited = course_exercise.max_submissions is not None or course_exercise.max_submissions_per_day is not None
        if not instructor and limited:
            # Lock the user's row so two concurrent uploads cannot both take the last attempt
            # (user.__class__, not type(user): request.user is a lazy proxy).
            user.__class__.objects.select_for_update().filter(pk=user.pk).first()
            if course_exercise.max_submissions is not None:
                used = submission_attempts_used(user=user, course_exercise=course_exercise)
                if used >= course_exercise.max_submissions:
                    raise ValidationError(f"You have used all {course_exercise.max_submissions} submissions "
                                          "for this exercise.")
            if course_exercise.max_submissions_per_day is not None:
                today = submission_attempts_used(user=user, course_exercise=course_exercise,
                                                 since=start_of_day(now))
                if today >= course_exercise.max_submissions_per_day:
                    raise ValidationError(f"You have used all {course_exercise.max_submissions_per_day} "
                                          "submissions for today; try again tomorrow.")
        submission = Submission.objects.create(
            user=user, course_exercise=course_exercise, exercise_version=version,
            filename=os.path.basename(filename), data=data, seed=settings.GRADING_SEED,
            is_late=course_exercise.deadline is not None and now > course_exercise.deadline)
        transaction.on_commit(lambda: submission_enqueue(submission=submission))
    return submission


def submission_enqueue(*, submission: Submission, countdown: float = 0) -> bool:
    """Send the grading task. If the broker is down the submission stays queued (the student sees it
    waiting) and the stale sweep sends it again later; the upload itself never fails for that."""
    from .tasks import grade_submission

    queue = submission.exercise_version.queue
    try:
        grade_submission.apply_async(args=[submission.pk], queue=queue, countdown=countdown or None)
    except Exception:  # kombu/redis raise several unrelated types for an unreachable broker
        log.warning("could not enqueue submission %s; it stays queued for the sweep", submission.pk, exc_info=True)
        return False
    return True


def submission_claim(*, submission_id: int, worker: str | None = None) -> str | None:
    """queued -> running for exactly one caller: a conditional UPDATE. Returns the claim token, or None."""
    token = uuid.uuid4().hex
    claimed = Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED).update(
        status=Submission.Status.RUNNING, claim_token=token, claimed_at=timezone.now(),
        worker=(worker or worker_name())[:200])
    return token if claimed == 1 else None


def _visible_score(result: dict, overrides: dict | None = None) -> float:
    return sum(float(t.get("score") or 0) for t in result.get("tests", [])
               if check_visibility(t, overrides) == "visible")


def submission_finish(*, submission_id: int, token: str, result: dict) -> bool:
    """Stores the student's result, only while this claim still holds it (a requeued stale claim loses),
    and in the same transaction its leaderboard entry (a regrade replaces the entry's numbers)."""
    overrides = (CourseExercise.objects.filter(submissions__pk=submission_id)
                 .values_list("check_visibility", flat=True).first())
    with transaction.atomic():
        updated = Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING,
                                            claim_token=token).update(
            status=result["status"], result=result, score=result.get("score"), max_score=result.get("max_score"),
            visible_score=_visible_score(result, overrides), finished_at=timezone.now())
        if updated == 1:
            leaderboard_entry_sync(submission_id=submission_id, result=result)
    return updated == 1


def submission_recompute_visible_scores(*, course_exercise: CourseExercise) -> int:
    """After a change of check visibility: the stored visible score of every finished submission."""
    changed = 0
    for sub in Submission.objects.filter(course_exercise=course_exercise, result__isnull=False).only(
            "pk", "result", "visible_score"):
        visible = _visible_score(sub.result or {}, course_exercise.check_visibility)
        if visible != sub.visible_score:
            Submission.objects.filter(pk=sub.pk).update(visible_score=visible)
            changed += 1
    return changed


@dataclass
class RetryDecision:
    retry: bool
    countdown: float = 0.0


def submission_release_after_infra_error(*, submission_id: int, token: str, error: str) -> RetryDecision:
    """The platform failed: back to queued for a retry, or give up as infrastructure_error.

    Neither costs the student an attempt, and an earlier grade is never touched."""
    with transaction.atomic():
        sub = Submission.objects.select_for_update().filter(
            pk=submission_id, status=Submission.Status.RUNNING, claim_token=token).first()
        if sub is None:
            return RetryDecision(retry=False)
        failures = sub.infra_failures + 1
        give_up = failures > settings.GRADING_INFRA_RETRIES
        if give_up and sub.history and sub.history[-1].get("regraded_at"):
            # A regrade the platform could not run: the grade it would have replaced stands.
            previous, history = sub.history[-1], sub.history[:-1]
            Submission.objects.filter(pk=sub.pk).update(
                status=previous["status"], result=previous["result"], score=previous["score"],
                max_score=previous["max_score"], visible_score=previous["visible_score"],
                exercise_version_id=previous["exercise_version_id"], history=history,
                finished_at=parse_datetime(previous["finished_at"]) if previous.get("finished_at") else None,
                infra_failures=failures, claim_token="", claimed_at=None,
                last_infra_error=f"regrade abandoned: {error}"[:2000])
            return RetryDecision(retry=False)
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.INFRASTRUCTURE_ERROR if give_up else Submission.Status.QUEUED,
            infra_failures=failures, last_infra_error=error[:2000], claim_token="", claimed_at=None,
            finished_at=timezone.now() if give_up else None,
            result={"status": "infrastructure_error", "score": 0.0, "max_score": sub.exercise_version.max_score,
                    "output": "The grading infrastructure failed; this attempt does not count.", "tests": []}
            if give_up else sub.result)
    countdown = settings.GRADING_RETRY_COUNTDOWN_S * (2 ** min(failures - 1, 6))
    return RetryDecision(retry=not give_up, countdown=countdown)


def submission_grade(*, submission_id: int, token: str, sandbox_factory) -> str:
    """Runs the grader on a claimed submission. Returns graded / retry / gave_up / lost_claim."""
    from grader.judge import grade
    from grader.sandbox import SandboxUnavailable
    from grader.spec import load_exercise

    sub = Submission.objects.select_related("exercise_version__exercise").get(pk=submission_id)
    version = sub.exercise_version
    try:
        exercise = load_exercise(version.exercise.slug)
        sandbox = sandbox_factory(version.queue)
        result = grade(exercise, sub.filename, bytes(sub.data), sandbox=sandbox, seed=sub.seed).to_dict()
        error = result.get("output", "") if result["status"] == "infrastructure_error" else ""
    except SandboxUnavailable as exc:
        result, error = None, f"sandbox unavailable: {exc}"
    except Exception as exc:  # a grader bug or a broken host is never the student's failure
        log.exception("grading submission %s failed", submission_id)
        result, error = None, f"{type(exc).__name__}: {exc}"
    if result is None or result["status"] == "infrastructure_error":
        decision = submission_release_after_infra_error(submission_id=submission_id, token=token, error=error)
        if decision.retry:
            transaction.on_commit(lambda: submission_enqueue(submission=sub, countdown=decision.countdown))
            return "retry"
        return "gave_up"
    if exercise.version != version.version:
        result.setdefault("provenance", {})["submitted_against_version"] = version.version
    if sub.history:
        previous = sub.history[-1]
        result.setdefault("provenance", {})["regrade"] = {
            "number": len(sub.history), "requested_by": previous.get("regraded_by"),
            "requested_at": previous.get("regraded_at"), "previous_status": previous.get("status"),
            "previous_score": previous.get("score"), "previous_exercise_version": previous.get("exercise_version")}
    return "graded" if submission_finish(submission_id=submission_id, token=token, result=result) else "lost_claim"


def submission_requeue_stale(*, older_than_s: float | None = None, now=None) -> list[int]:
    """Running claims older than the limit (a worker died mid-grading) go back to the queue, and
    queued submissions older than it are sent again (their message may never have reached a broker
    that was down; a duplicate message is harmless: the claim lets only one grading happen).
    Without `older_than_s` a running claim's limit is that of its exercise version (version_stale_after_s)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_s if older_than_s is not None else settings.GRADING_STALE_AFTER_S)
    for sub in Submission.objects.filter(status=Submission.Status.QUEUED, created_at__lt=cutoff).select_related(
            "exercise_version"):
        submission_enqueue(submission=sub)
    requeued = []
    for sub in Submission.objects.filter(status=Submission.Status.RUNNING, claimed_at__lt=cutoff).select_related(
            "exercise_version"):
        if older_than_s is None and sub.claimed_at > now - timedelta(
                seconds=version_stale_after_s(version=sub.exercise_version)):
            continue  # a training run still within its budget
        with transaction.atomic():
            if Submission.objects.filter(pk=sub.pk, status=Submission.Status.RUNNING,
                                         claim_token=sub.claim_token).update(
                    status=Submission.Status.QUEUED, claim_token="", claimed_at=None):
                requeued.append(sub.pk)
                transaction.on_commit(lambda s=sub: submission_enqueue(submission=s))
    return requeued


def submission_regrade(*, submission: Submission, requested_by=None) -> bool:
    """Grades a finished submission again, against the exercise's current version, through the
    normal queue. The earlier result moves to `history` (provenance: who asked, when, what it was);
    the new result records which regrade it is. A pending submission is left alone (returns False)."""
    done = Submission.FINISHED + (Submission.Status.INFRASTRUCTURE_ERROR,)
    with transaction.atomic():
        sub = (Submission.objects.select_for_update().select_related("course_exercise__exercise")
               .filter(pk=submission.pk, status__in=done).first())
        if sub is None:
            return False
        version = sub.course_exercise.exercise.current_version
        entry = {"status": sub.status, "result": sub.result, "score": sub.score, "max_score": sub.max_score,
                 "visible_score": sub.visible_score, "exercise_version_id": sub.exercise_version_id,
                 "exercise_version": sub.exercise_version.version,
                 "finished_at": sub.finished_at.isoformat() if sub.finished_at else None,
                 "regraded_by": getattr(requested_by, "username", None), "regraded_at": timezone.now().isoformat()}
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.QUEUED, history=[*sub.history, entry], result=None, score=None,
            visible_score=None, max_score=None, finished_at=None, claim_token="", claimed_at=None, worker="",
            infra_failures=0, last_infra_error="", exercise_version=version or sub.exercise_version)
        sub.refresh_from_db()
        transaction.on_commit(lambda: submission_enqueue(submission=sub))
    return True


def submission_regrade_all(*, course_exercise: CourseExercise, requested_by=None) -> int:
    """Regrades every finished submission of a course exercise; returns how many were enqueued."""
    ids = list(Submission.objects.filter(course_exercise=course_exercise).exclude(
        status__in=Submission.PENDING).values_list("pk", flat=True))
    return sum(submission_regrade(submission=Submission(pk=pk), requested_by=requested_by) for pk in ids)


def submission_requeue_dead_workers(*, host: str | None = None) -> list[int]:
    """Running claims held by worker processes of this host that no longer exist (SIGKILL, OOM kill)
    go back to the queue at once, without waiting for DGM_STALE_AFTER_S. Called when a worker starts."""
    requeued = []
    running = Submission.objects.filter(status=Submission.Status.RUNNING).select_related("exercise_version")
    for sub in claimed_by_dead_workers(running, host):
        with transaction.atomic():
            if Submission.objects.filter(pk=sub.pk, status=Submission.Status.RUNNING,
                                         claim_token=sub.claim_token).update(
                    status=Submission.Status.QUEUED, claim_token="", claimed_at=None):
                requeued.append(sub.pk)
                transaction.on_commit(lambda s=sub: submission_enqueue(submission=s))
    return requeued

