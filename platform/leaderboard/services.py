"""Writes for the leaderboards: entries from finished gradings, the student's choice, the instructor's
moderation, and the reference baselines.

The numbers come from the result's `training` block only (made by the trusted judge), never from
anything else the sandbox wrote."""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import CourseExercise, Exercise, ExerciseVersion
from grader.numbers import finite_or_none
from grader.sandbox.docker_sandbox import worker_identity
from submissions.models import Submission
from workers.queues import queue_for
from workers.selectors import claimed_by_dead_workers
from workers.services import claims_release, silent_since

from .models import Baseline, EntryCheckpoint, LeaderboardEntry

log = logging.getLogger(__name__)
REASON_MAX_CHARS = 2000


def fid_interval(value, fid: float | None) -> tuple[float | None, float | None]:
    """A block's [low, high] around `fid`; (None, None) when there is none, or one that does not hold the
    estimate (the board then ranks by FID alone)."""
    if not isinstance(value, list) or len(value) != 2 or fid is None:
        return None, None
    low, high = finite_or_none(value[0]), finite_or_none(value[1])
    if low is None or high is None or not low <= fid <= high:
        return None, None
    return low, high


def _count(value) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _training_numbers(training: dict) -> dict | None:
    """The board's numbers of a `training` block, or None when it has no FID (training or sampling failed)."""
    fid, n_samples = finite_or_none(training.get("fid")), _count(training.get("n_samples"))
    label = training.get("fid_label")
    if fid is None or n_samples is None or not isinstance(label, str) or not label:
        return None
    low, high = fid_interval(training.get("fid_interval"), fid)
    fidelity = training.get("fidelity") if isinstance(training.get("fidelity"), dict) else {}
    return {"fid": fid, "fid_label": label[:100], "kid": finite_or_none(training.get("kid")),
            "kid_std": finite_or_none(training.get("kid_std")), "n_samples": n_samples,
            "fid_low": low, "fid_high": high, "precision": finite_or_none(fidelity.get("precision")),
            "recall": finite_or_none(fidelity.get("recall")),
            # compute used: the steps training did (`steps_done`) where the block says, else the budget's
            "steps": _count(training.get("steps_done", training.get("steps"))),
            "device": str(training.get("device") or "")[:16],
            "train_seconds": finite_or_none(training.get("train_seconds")),
            "sample_seconds": finite_or_none(training.get("sample_seconds"))}


def entry_fields_from_result(result: dict) -> dict | None:
    """A graded result with leaderboard entries and an FID: the entry's fields; anything else: None."""
    training = result.get("training")
    if result.get("status") != "graded" or not result.get("leaderboard") or not isinstance(training, dict):
        return None
    numbers = _training_numbers(training)
    profile = training.get("profile")
    if numbers is None or not isinstance(profile, str) or not profile:
        return None
    memorisation = training.get("memorisation") if isinstance(training.get("memorisation"), dict) else {}
    return {**numbers, "profile": profile[:32], "memorisation_share": finite_or_none(memorisation.get("share")),
            "flagged": memorisation.get("flagged") is True}


def leaderboard_entry_sync(*, submission_id: int, result: dict, checkpoint: bytes | None = None
                           ) -> LeaderboardEntry | None:
    """After a grading finished, in its transaction: the submission's entry takes the result's numbers
    (a regrade replaces them) and the checkpoint its train() returned (the private board samples it
    again), or goes away when the result has none. The instructor's disqualification and review and the
    student's choice stay with the entry."""
    fields = entry_fields_from_result(result)
    if fields is None:
        LeaderboardEntry.objects.filter(submission_id=submission_id).delete()
        return None
    sub = Submission.objects.only("user_id", "course_exercise_id", "created_at").get(pk=submission_id)
    entry, _ = LeaderboardEntry.objects.update_or_create(
        submission_id=submission_id,
        defaults={**fields, "course_exercise_id": sub.course_exercise_id, "user_id": sub.user_id,
                  "submitted_at": sub.created_at})
    if checkpoint:
        EntryCheckpoint.objects.update_or_create(entry=entry, defaults={
            "data": checkpoint, "sha256": hashlib.sha256(checkpoint).hexdigest()})
    else:
        EntryCheckpoint.objects.filter(entry=entry).delete()
    return entry


def leaderboard_entry_choose(*, user, entry: LeaderboardEntry) -> None:
    """The student's "use this submission for the leaderboard": replaces an earlier choice."""
    if entry.user_id != user.pk:
        raise ValidationError("Only the student who submitted it can choose this submission.")
    if entry.is_off_for_memorising:
        raise ValidationError("This submission was flagged as memorising training images; it cannot go on the "
                              "leaderboard.")
    if entry.is_disqualified:
        raise ValidationError("This submission was disqualified from the leaderboard.")
    if entry.profile != settings.TRAINING_PROFILE:
        raise ValidationError(f"This submission was trained under the profile {entry.profile!r}; the leaderboard "
                              f"compares the profile {settings.TRAINING_PROFILE!r}.")
    with transaction.atomic():
        # Lock the student's row so that two concurrent choices cannot both set `chosen` (user.__class__, not
        # type(user): request.user is a lazy proxy).
        user.__class__.objects.select_for_update().filter(pk=user.pk).first()
        LeaderboardEntry.objects.filter(course_exercise_id=entry.course_exercise_id, user_id=user.pk,
                                        chosen=True).exclude(pk=entry.pk).update(chosen=False)
        LeaderboardEntry.objects.filter(pk=entry.pk).update(chosen=True)


def leaderboard_choice_clear(*, user, course_exercise: CourseExercise) -> None:
    """Back to the default: the student's best entry goes on the board."""
    LeaderboardEntry.objects.filter(course_exercise=course_exercise, user_id=user.pk, chosen=True).update(
        chosen=False)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason: the student reads it.")
    if len(reason) > REASON_MAX_CHARS:
        raise ValidationError(f"The reason is longer than {REASON_MAX_CHARS} characters.")
    return reason


def leaderboard_entry_disqualify(*, entry: LeaderboardEntry, by, reason: str) -> None:
    """Takes the entry off the board (the student's next best eligible entry, if any, takes its place);
    the student reads the reason on their submission page."""
    reason = _reason(reason)
    LeaderboardEntry.objects.filter(pk=entry.pk).update(disqualified_at=timezone.now(), disqualified_by=by,
                                                        disqualified_reason=reason)


def leaderboard_entry_reinstate(*, entry: LeaderboardEntry) -> None:
    LeaderboardEntry.objects.filter(pk=entry.pk).update(disqualified_at=None, disqualified_by=None,
                                                        disqualified_reason="")


REVIEW_DECISIONS = ("confirmed", "cleared")


def leaderboard_entry_review(*, entry: LeaderboardEntry, by, decision: str, reason: str) -> None:
    """The instructor's verdict on a flagged entry: `confirmed` (it memorises: it stays off the board) or
    `cleared` (a false alarm: it goes on the board). The student reads the reason."""
    if not entry.flagged:
        raise ValidationError("Only an entry flagged as memorising can be confirmed or cleared.")
    if decision not in REVIEW_DECISIONS:
        raise ValidationError(f"Choose one of: {', '.join(REVIEW_DECISIONS)}.")
    reason = _reason(reason)
    LeaderboardEntry.objects.filter(pk=entry.pk).update(review=decision, review_reason=reason, reviewed_by=by,
                                                        reviewed_at=timezone.now())


# Baselines -----------------------------------------------------------------------------------------

def baseline_queue(*, baseline: Baseline) -> str:
    """A baseline trains like a submission of its profile: the training (or gpu) queue, never quick."""
    return queue_for(version=baseline.exercise_version, profile=baseline.profile)


def baseline_enqueue(*, baseline: Baseline) -> bool:
    """Sends the computation to the exercise's queue; with the broker down the row stays queued and
    the next `compute_baselines` or `sync_exercises` sends it again."""
    from .tasks import compute_baseline

    try:
        compute_baseline.apply_async(args=[baseline.pk], queue=baseline_queue(baseline=baseline))
    except Exception:  # kombu/redis raise several unrelated types for an unreachable broker
        log.warning("could not enqueue baseline %s; it stays queued", baseline.pk, exc_info=True)
        return False
    return True


def baseline_request(*, exercise_version: ExerciseVersion, profile: str) -> Baseline | None:
    """Asks for the baseline of (version, profile) unless it is done or being computed; returns the row
    when a computation was sent. A failed one, or one whose worker stopped heartbeating, is asked for
    again; a queued one is sent again (its task's claim makes a duplicate harmless)."""
    with transaction.atomic():
        baseline, created = Baseline.objects.get_or_create(exercise_version=exercise_version, profile=profile,
                                                           defaults={"queued_at": timezone.now()})
        if not created:
            again = Baseline.objects.filter(pk=baseline.pk).filter(
                Q(status=Baseline.Status.FAILED) | Q(status=Baseline.Status.RUNNING,
                                                     heartbeat_at__lt=silent_since())).update(
                status=Baseline.Status.QUEUED, claimed_at=None, heartbeat_at=None, error="", queued_at=timezone.now())
            if not again and baseline.status != Baseline.Status.QUEUED:
                return None
        transaction.on_commit(lambda: baseline_enqueue(baseline=baseline))
    return baseline


def baseline_request_missing(*, profile: str, slugs: list[str] | None = None) -> list[Baseline]:
    """Baselines of the current versions of the training exercises that define `profile`."""
    versions = ExerciseVersion.objects.filter(pk__in=Exercise.objects.values("current_version"))
    if slugs:
        versions = versions.filter(exercise__slug__in=slugs)
    requested = []
    for version in versions.order_by("exercise__slug"):
        if profile in version.training.get("profiles", {}):
            baseline = baseline_request(exercise_version=version, profile=profile)
            if baseline is not None:
                requested.append(baseline)
    return requested


def baseline_store(*, exercise_version: ExerciseVersion, profile: str, computed: dict) -> Baseline:
    """Stores a computed baseline: the dict `grader.baselines.compute_baseline` returns (its `training`
    block plus `label`). Tests create baseline rows through this too."""
    numbers = _training_numbers(computed)
    if numbers is None:
        raise ValidationError("The reference solution produced no FID: " + str(computed.get("error") or
                                                                                "no samples were scored"))
    baseline, _ = Baseline.objects.update_or_create(
        exercise_version=exercise_version, profile=profile,
        defaults={**numbers, "label": str(computed.get("label") or "Reference solution")[:100],
                  "status": Baseline.Status.DONE, "error": "", "computed_at": timezone.now()})
    return baseline


def baseline_claim_queryset(*, baseline_id: int, claimed_at):
    """The baseline's row while the claim made at `claimed_at` still holds it."""
    return Baseline.objects.filter(pk=baseline_id, status=Baseline.Status.RUNNING, claimed_at=claimed_at)


def baseline_compute(*, baseline_id: int, sandbox_factory, node: str = "", compute=None, exercise_for=None) -> str:
    """Claims a queued baseline (a conditional UPDATE: a duplicate delivery computes nothing), trains and
    scores the exercise's reference solution from the version's bundle through the grading pipeline,
    under a job monitor, and stores the numbers. Returns done / failed / not-claimed / lost_claim.
    `compute` (grader.baselines.compute_baseline) and `exercise_for` (workers.bundles.exercise_for_version)
    can be replaced by tests: the real ones train for minutes."""
    from grader.progress import Cancelled
    from workers.monitor import JobMonitor

    if compute is None:
        from grader.baselines import compute_baseline as compute
    if exercise_for is None:
        from workers.bundles import exercise_for_version as exercise_for

    now = timezone.now()
    claimed = Baseline.objects.filter(pk=baseline_id, status=Baseline.Status.QUEUED).update(
        status=Baseline.Status.RUNNING, claimed_at=now, heartbeat_at=now, progress=None,
        worker=worker_identity()[:200], worker_node=node[:200])
    if not claimed:
        return "not-claimed"
    baseline = Baseline.objects.select_related("exercise_version__exercise").get(pk=baseline_id)
    version = baseline.exercise_version
    claim = baseline_claim_queryset(baseline_id=baseline_id, claimed_at=baseline.claimed_at)
    try:
        exercise, _ = exercise_for(version)
        with JobMonitor(claim) as watch:
            computed = compute(exercise, baseline.profile, sandbox_factory(baseline_queue(baseline=baseline)), watch)
        with transaction.atomic():
            if not claim.select_for_update().exists():
                return "lost_claim"  # requeued meanwhile: the other run stores its numbers
            baseline_store(exercise_version=version, profile=baseline.profile, computed=computed)
    except Cancelled:
        return "lost_claim"
    except Exception as exc:  # stored for the instructor; `compute_baselines` asks for it again
        log.exception("baseline %s (%s, %s) failed", baseline_id, version, baseline.profile)
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        claim.update(status=Baseline.Status.FAILED, error=message[:2000], progress=None)
        return "failed"
    return "done"


def _baseline_release(rows) -> list[int]:
    return claims_release(rows, match=lambda b: {"claimed_at": b.claimed_at}, reset={"claimed_at": None},
                          enqueue=lambda b: baseline_enqueue(baseline=b))


def baseline_requeue_dead_workers() -> list[int]:
    """Running baselines claimed by worker processes of this host that no longer exist (SIGKILL, OOM kill)
    go back to the queue at once, without waiting for their heartbeat to time out. Called when a worker
    starts."""
    running = Baseline.objects.filter(status=Baseline.Status.RUNNING).select_related("exercise_version")
    return _baseline_release(claimed_by_dead_workers(running))


def baseline_requeue_silent(*, now=None) -> list[int]:
    """Running baselines whose heartbeat stopped go back to the queue."""
    return _baseline_release(Baseline.objects.filter(status=Baseline.Status.RUNNING,
                                                     heartbeat_at__lt=silent_since(now))
                             .select_related("exercise_version"))
