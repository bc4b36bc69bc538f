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

from catalog.models import CourseExercise, ExerciseVersion
from courses.deadlines import attempts_allowed, extension_get, is_late, submission_cutoff
from courses.permissions import COURSE_STAFF_ROLES
from courses.selectors import enrollment_role
from grader.materialize import SubmissionError, materialize
from grader.sandbox.docker_sandbox import worker_identity
from leaderboard.services import leaderboard_entry_sync
from workers.queues import queue_for
from workers.selectors import claimed_by_dead_workers
from workers.services import claims_release, silent_since

from .models import Submission
from .precheck import syntax_error_message
from .selectors import check_visibility

log = logging.getLogger(__name__)
ALLOWED_SUFFIXES = (".py", ".ipynb")


def worker_name() -> str:
    return worker_identity()


def submission_filename(filename: str) -> str:
    """The name a submission is stored and graded under: its base name with the suffix in lower case
    (`Solution.IPYNB` is a notebook, `SOL.PY` a Python file, everywhere)."""
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ALLOWED_SUFFIXES:
        shown = f" “{name[:100]}” is neither." if name else ""
        raise ValidationError(f"Submit a Python file (.py) or a Jupyter notebook (.ipynb).{shown}")
    return f"{stem[:200]}.{suffix.lower()}"


def submission_validate_file(*, filename: str, data: bytes) -> str:
    """Everything we check before storing anything, including that the code parses (so a syntax
    error costs no attempt); the message is for the student. Returns the name to store."""
    name = submission_filename(filename)
    limit = settings.SUBMISSION_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(f"The file is {len(data):,} bytes; the limit is {limit:,}.")
    if not data.strip():
        raise ValidationError("The file is empty.")
    try:
        source = materialize(name, data)
    except SubmissionError as exc:
        raise ValidationError(str(exc)) from None
    error = syntax_error_message(filename=name, source=source)
    if error:
        raise ValidationError(error)
    return name


def submission_attempts_used(*, user, course_exercise: CourseExercise, since=None) -> int:
    """Platform failures and cancelled jobs never count: infrastructure_error and cancelled are free."""
    qs = Submission.objects.filter(user=user, course_exercise=course_exercise)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.exclude(status__in=Submission.FREE).count()


def job_placement(*, version: ExerciseVersion) -> dict:
    """The training profile (the deployment's, for a training exercise) and the queue of a new job.

    The profile travels with the job: the worker trains at the one stored on the submission."""
    profile = settings.TRAINING_PROFILE if version.is_training else ""
    if profile and profile not in version.training.get("profiles", {}):
        raise ValidationError(f"This exercise has no training profile {profile!r}, which this platform trains at.")
    return {"training_profile": profile, "queue": queue_for(version=version, profile=profile)}


def start_of_day(now) -> object:
    """Midnight of `now`'s calendar day in the site's time zone (TIME_ZONE): the per-day limit's window."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def submission_create(*, user, course_exercise: CourseExercise, filename: str, data: bytes, now=None) -> Submission:
    now = now or timezone.now()
    role = enrollment_role(user=user, course=course_exercise.course)
    if role is None:
        raise PermissionDenied("You are not enrolled in this course.")
    instructor = role in COURSE_STAFF_ROLES  # instructors and TAs try exercises without limits
    extension = extension_get(course_exercise=course_exercise, user=user)  # the student's own deadline and limit
    if not instructor:
        if not course_exercise.published or (course_exercise.opens_at and now < course_exercise.opens_at):
            raise ValidationError("This exercise is not open for submissions yet.")
        final = submission_cutoff(course_exercise=course_exercise, extension=extension)
        if final is not None and now > final:
            raise ValidationError("The deadline for this exercise has passed.")
    filename = submission_validate_file(filename=filename, data=data)
    version = course_exercise.exercise.current_version
    if version is None:
        raise ValidationError("This exercise is not available for grading yet.")
    placement = job_placement(version=version)
    with transaction.atomic():
        limited = course_exercise.max_submissions is not None or course_exercise.max_submissions_per_day is not None
        if not instructor and limited:
            # Lock the user's row so two concurrent uploads cannot both take the last attempt
            # (user.__class__, not type(user): request.user is a lazy proxy).
            user.__class__.objects.select_for_update().filter(pk=user.pk).first()
            allowed = attempts_allowed(course_exercise=course_exercise, extension=extension)
            if allowed is not None:
                used = submission_attempts_used(user=user, course_exercise=course_exercise)
                if used >= allowed:
                    raise ValidationError(f"You have used all {allowed} submissions for this exercise.")
            if course_exercise.max_submissions_per_day is not None:
                today = submission_attempts_used(user=user, course_exercise=course_exercise,
                                                 since=start_of_day(now))
                if today >= course_exercise.max_submissions_per_day:
                    raise ValidationError(f"You have used all {course_exercise.max_submissions_per_day} "
                                          "submissions for today; try again tomorrow.")
        submission = Submission.objects.create(
            user=user, course_exercise=course_exercise, exercise_version=version,
            filename=filename, data=data, seed=settings.GRADING_SEED, queued_at=now, **placement,
            is_late=is_late(course_exercise=course_exercise, at=now, extension=extension))
        transaction.on_commit(lambda: submission_enqueue(submission=submission))
    return submission


def submission_enqueue(*, submission: Submission, countdown: float = 0) -> bool:
    """Send the grading task. If the broker is down the submission stays queued (the student sees it
    waiting) and the stale sweep sends it again later; the upload itself never fails for that."""
    from .tasks import grade_submission

    try:
        grade_submission.apply_async(args=[submission.pk], queue=submission.queue, countdown=countdown or None)
    except Exception:  # kombu/redis raise several unrelated types for an unreachable broker
        log.warning("could not enqueue submission %s; it stays queued for the sweep", submission.pk, exc_info=True)
        return False
    return True


def submission_claim(*, submission_id: int, worker: str | None = None, node: str = "") -> str | None:
    """queued -> running for exactly one caller: a conditional UPDATE. Returns the claim token, or None.
    The claim counts as the job's first heartbeat."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED).update(
        status=Submission.Status.RUNNING, claim_token=token, claimed_at=now, heartbeat_at=now, progress=None,
        worker=(worker or worker_name())[:200], worker_node=node[:200])
    return token if claimed == 1 else None


def submission_claim_queryset(*, submission_id: int, token: str):
    """The submission's row while this claim still holds it (what the job monitor's heartbeat updates)."""
    return Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, claim_token=token)


def _visible_score(result: dict, overrides: dict | None = None) -> float:
    return sum(float(t.get("score") or 0) for t in result.get("tests", [])
               if check_visibility(t, overrides) == "visible")


def submission_finish(*, submission_id: int, token: str, result: dict, checkpoint: bytes | None = None) -> bool:
    """Stores the student's result, only while this claim still holds it (a requeued stale claim loses),
    and in the same transaction its leaderboard entry (a regrade replaces the entry's numbers) with the
    training exercise's checkpoint."""
    overrides = (CourseExercise.objects.filter(submissions__pk=submission_id)
                 .values_list("check_visibility", flat=True).first())
    with transaction.atomic():
        updated = submission_claim_queryset(submission_id=submission_id, token=token).update(
            status=result["status"], result=result, score=result.get("score"), max_score=result.get("max_score"),
            visible_score=_visible_score(result, overrides), finished_at=timezone.now(), progress=None)
        if updated == 1:
            leaderboard_entry_sync(submission_id=submission_id, result=result, checkpoint=checkpoint)
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


def _is_regrade(sub: Submission) -> bool:
    return bool(sub.history and sub.history[-1].get("regraded_at"))


def _restore_before_regrade(sub: Submission, **fields) -> None:
    """A regrade that will not finish (abandoned, cancelled): the grade it would have replaced stands."""
    previous, history = sub.history[-1], sub.history[:-1]
    Submission.objects.filter(pk=sub.pk).update(
        status=previous["status"], result=previous["result"], score=previous["score"],
        max_score=previous["max_score"], visible_score=previous["visible_score"],
        exercise_version_id=previous["exercise_version_id"], history=history,
        finished_at=parse_datetime(previous["finished_at"]) if previous.get("finished_at") else None,
        claim_token="", claimed_at=None, heartbeat_at=None, progress=None, **fields)


def submission_release_after_infra_error(*, submission_id: int, token: str, error: str,
                                         retryable: bool = True) -> RetryDecision:
    """The platform failed: back to queued for a retry, or give up as infrastructure_error (at once
    when retrying cannot help). Neither costs the student an attempt, and an earlier grade is never
    touched."""
    with transaction.atomic():
        sub = submission_claim_queryset(submission_id=submission_id, token=token).select_for_update().first()
        if sub is None:
            return RetryDecision(retry=False)
        failures = sub.infra_failures + 1
        give_up = failures > settings.GRADING_INFRA_RETRIES or not retryable
        if give_up and _is_regrade(sub):
            _restore_before_regrade(sub, infra_failures=failures, last_infra_error=f"regrade abandoned: {error}"[:2000])
            return RetryDecision(retry=False)
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.INFRASTRUCTURE_ERROR if give_up else Submission.Status.QUEUED,
            infra_failures=failures, last_infra_error=error[:2000], claim_token="", claimed_at=None,
            heartbeat_at=None, queued_at=timezone.now(), finished_at=timezone.now() if give_up else None,
            result={"status": "infrastructure_error", "score": 0.0, "max_score": sub.exercise_version.max_score,
                    "output": "The grading infrastructure failed; this attempt does not count.", "tests": []}
            if give_up else sub.result)
    countdown = settings.GRADING_RETRY_COUNTDOWN_S * (2 ** min(failures - 1, 6))
    return RetryDecision(retry=not give_up, countdown=countdown)


def submission_grade(*, submission_id: int, token: str, sandbox_factory) -> str:
    """Runs the grader on a claimed submission, at its exercise version (materialised from the stored
    bundle) and its training profile, under a job monitor (heartbeat, live progress, cancellation).
    Returns graded / retry / gave_up / lost_claim / cancelled."""
    from grader.judge import grade
    from grader.progress import Cancelled
    from grader.sandbox import SandboxUnavailable
    from workers.bundles import BundleMissing, exercise_for_version
    from workers.monitor import JobMonitor

    sub = Submission.objects.select_related("exercise_version__exercise").get(pk=submission_id)
    version = sub.exercise_version
    retryable = True
    artifacts: dict = {}
    try:
        exercise, digest = exercise_for_version(version)
        sandbox = sandbox_factory(sub.queue)
        with JobMonitor(submission_claim_queryset(submission_id=submission_id, token=token)) as watch:
            result = grade(exercise, sub.filename, bytes(sub.data), sandbox=sandbox, seed=sub.seed,
                           profile=sub.training_profile or None, watch=watch, artifacts=artifacts).to_dict()
        error = result.get("output", "") if result["status"] == "infrastructure_error" else ""
    except Cancelled:
        return "cancelled"  # the row already says so; the sandbox is gone
    except SandboxUnavailable as exc:
        result, error = None, f"sandbox unavailable: {exc}"
    except BundleMissing as exc:
        result, error, retryable = None, str(exc), False
    except Exception as exc:  # a grader bug or a broken host is never the student's failure
        log.exception("grading submission %s failed", submission_id)
        result, error = None, f"{type(exc).__name__}: {exc}"
    if result is None or result["status"] == "infrastructure_error":
        decision = submission_release_after_infra_error(submission_id=submission_id, token=token, error=error,
                                                        retryable=retryable)
        if decision.retry:
            transaction.on_commit(lambda: submission_enqueue(submission=sub, countdown=decision.countdown))
            return "retry"
        return "gave_up"
    provenance = result.setdefault("provenance", {})
    provenance["exercise_version"] = version.version
    provenance["bundle"] = digest
    if exercise.version != version.version:  # the worker's check library or reference models differ
        provenance["judged_with_version"] = exercise.version
    if sub.training_profile:
        provenance["profile"] = sub.training_profile
    if sub.history:
        previous = sub.history[-1]
        provenance["regrade"] = {
            "number": len(sub.history), "requested_by": previous.get("regraded_by"),
            "requested_at": previous.get("regraded_at"), "previous_status": previous.get("status"),
            "previous_score": previous.get("score"), "previous_exercise_version": previous.get("exercise_version"),
            "at": previous.get("regrade_at", "current")}
    finished = submission_finish(submission_id=submission_id, token=token, result=result,
                                 checkpoint=artifacts.get("checkpoint"))
    return "graded" if finished else "lost_claim"


def submission_requeue_silent(*, now=None) -> list[int]:
    """Running jobs whose heartbeat stopped (their worker process or host died) go back to the queue,
    within JOB_HEARTBEAT_TIMEOUT_S; queued ones older than DGM_STALE_AFTER_S are sent again (their
    message may never have reached a broker that was down; a duplicate is harmless: the claim lets
    only one grading happen)."""
    now = now or timezone.now()
    old = now - timedelta(seconds=settings.GRADING_STALE_AFTER_S)
    for sub in Submission.objects.filter(status=Submission.Status.QUEUED, queued_at__lt=old):
        submission_enqueue(submission=sub)
    silent = Submission.objects.filter(status=Submission.Status.RUNNING, heartbeat_at__lt=silent_since(now))
    return claims_release(silent, match=lambda s: {"claim_token": s.claim_token},
                          reset={"claim_token": "", "claimed_at": None},
                          enqueue=lambda s: submission_enqueue(submission=s))


REGRADE_AT = ("current", "submitted")


def submission_regrade(*, submission: Submission, requested_by=None, at: str = "current") -> bool:
    """Grades a finished submission again through the normal queue, at the exercise's current version
    (`at="current"`) or at the version it was last graded against (`at="submitted"`: the same checks,
    from that version's stored bundle). The earlier result moves to `history` (provenance: who asked,
    when, what it was); the new result records which regrade it is. A pending submission is left
    alone (returns False)."""
    if at not in REGRADE_AT:
        raise ValidationError(f"regrade at {at!r}: choose one of {', '.join(REGRADE_AT)}")
    done = Submission.FINISHED + Submission.FREE
    with transaction.atomic():
        sub = (Submission.objects.select_for_update().select_related("course_exercise__exercise", "exercise_version")
               .filter(pk=submission.pk, status__in=done).first())
        if sub is None:
            return False
        version = (sub.course_exercise.exercise.current_version if at == "current" else None) or sub.exercise_version
        if at == "submitted" and version.bundle_id is None:
            raise ValidationError(f"Version {version.version} has no stored bundle, so it cannot be regraded "
                                  "at that version; regrade at the current version.")
        entry = {"status": sub.status, "result": sub.result, "score": sub.score, "max_score": sub.max_score,
                 "visible_score": sub.visible_score, "exercise_version_id": sub.exercise_version_id,
                 "exercise_version": sub.exercise_version.version,
                 "finished_at": sub.finished_at.isoformat() if sub.finished_at else None,
                 "regraded_by": getattr(requested_by, "username", None), "regraded_at": timezone.now().isoformat(),
                 "regrade_at": at}
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.QUEUED, history=[*sub.history, entry], result=None, score=None,
            visible_score=None, max_score=None, finished_at=None, claim_token="", claimed_at=None, worker="",
            worker_node="", heartbeat_at=None, progress=None, queued_at=timezone.now(),
            infra_failures=0, last_infra_error="", exercise_version=version, **job_placement(version=version))
        sub.refresh_from_db()
        transaction.on_commit(lambda: submission_enqueue(submission=sub))
    return True


def submission_regrade_all(*, course_exercise: CourseExercise, requested_by=None, at: str = "current") -> int:
    """Regrades every finished submission of a course exercise; returns how many were enqueued."""
    ids = list(Submission.objects.filter(course_exercise=course_exercise).exclude(
        status__in=Submission.PENDING).values_list("pk", flat=True))
    return sum(submission_regrade(submission=Submission(pk=pk), requested_by=requested_by, at=at) for pk in ids)


def submission_requeue_dead_workers(*, host: str | None = None) -> list[int]:
    """Running claims held by worker processes of this host that no longer exist (SIGKILL, OOM kill)
    go back to the queue at once, without waiting for their heartbeat to time out. Called when a
    worker starts."""
    running = Submission.objects.filter(status=Submission.Status.RUNNING)
    return claims_release(claimed_by_dead_workers(running, host), match=lambda s: {"claim_token": s.claim_token},
                          reset={"claim_token": "", "claimed_at": None},
                          enqueue=lambda s: submission_enqueue(submission=s))


def submission_cancel(*, submission: Submission, by) -> bool:
    """The owner (or an instructor of the course) stops a queued or running job. A queued one is never
    claimed; a running one's worker sees its claim gone at the next heartbeat, kills and removes the
    sandbox and stores nothing. Cancelled costs no attempt; a cancelled regrade leaves the grade it
    would have replaced. Returns False if the job had already finished."""
    with transaction.atomic():
        sub = Submission.objects.select_for_update().filter(pk=submission.pk, status__in=Submission.PENDING).first()
        if sub is None:
            return False
        if _is_regrade(sub):
            _restore_before_regrade(sub, last_infra_error=f"regrade cancelled by {getattr(by, 'username', '?')}")
            return True
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.CANCELLED, finished_at=timezone.now(), claim_token="", heartbeat_at=None,
            result={"status": "cancelled", "score": 0.0, "max_score": sub.exercise_version.max_score, "tests": [],
                    "output": f"Cancelled by {getattr(by, 'username', 'its owner')} while "
                              f"{'running' if sub.status == Submission.Status.RUNNING else 'queued'}; "
                              "this attempt does not count."})
    return True
