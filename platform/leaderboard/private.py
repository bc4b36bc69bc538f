"""Writes for the private board: the instructor's reveal, and each entry sampled again and scored.

While the exercise is open the board is public: entries are scored against one part of the reference
data (the test split's even images), with the sampling seed of their grading. After the deadline the
instructor reveals the private board: the entries of the public board at that moment are sampled
again from their stored checkpoints, with seeds derived from a secret drawn at the reveal, and scored
against the held-back part (the odd images). The secret exists only from the reveal on and no page,
API or export shows it; students see the private board once every entry has been scored.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import CourseExercise
from grader.numbers import finite_or_none
from workers.queues import queue_for

from .models import BoardReveal, LeaderboardEntry
from .selectors import board_entries
from .services import fid_interval

log = logging.getLogger(__name__)
PENDING = ("queued", "running")


def entry_private_seed(*, reveal: BoardReveal, entry_id: int) -> int:
    """The seed entry `entry_id` samples with on the private board: a function of the reveal's secret."""
    digest = hmac.new(str(reveal.seed).encode(), f"entry:{entry_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def board_reveal_request(*, course_exercise: CourseExercise, by, now=None) -> BoardReveal:
    """Draws the private board's secret and queues every entry of the public board for sampling again.
    Only after the deadline, and once."""
    now = now or timezone.now()
    if course_exercise.deadline is None or now <= course_exercise.deadline:
        raise ValidationError("The private board can be revealed once the deadline has passed.")
    with transaction.atomic():
        if BoardReveal.objects.select_for_update().filter(course_exercise=course_exercise).exists():
            raise ValidationError("The private board has already been revealed.")
        reveal = BoardReveal.objects.create(course_exercise=course_exercise, seed=secrets.randbits(62), requested_by=by)
        entries = board_entries(course_exercise=course_exercise, profile=settings.TRAINING_PROFILE)
        with_checkpoint = [e.pk for e in entries if hasattr(e, "checkpoint")]
        LeaderboardEntry.objects.filter(pk__in=with_checkpoint).update(
            private_status="queued", private_error="", private_claimed_at=None)
        LeaderboardEntry.objects.filter(pk__in=[e.pk for e in entries if e.pk not in with_checkpoint]).update(
            private_status="failed", private_error="No checkpoint was stored for this entry (it was graded before "
                                                   "checkpoints were kept); regrade it to take part.")
        transaction.on_commit(lambda: [entry_resample_enqueue(entry_id=pk) for pk in with_checkpoint])
        transaction.on_commit(lambda: board_reveal_finish_if_done(course_exercise=course_exercise))
    return reveal


def entry_resample_enqueue(*, entry_id: int) -> None:
    from .tasks import resample_entry

    entry = LeaderboardEntry.objects.select_related("submission__exercise_version").get(pk=entry_id)
    queue = queue_for(version=entry.submission.exercise_version, profile=entry.profile)
    try:
        resample_entry.apply_async(args=[entry_id], queue=queue)
    except Exception:  # an unreachable broker: the sweep sends it again
        log.warning("could not enqueue private sampling of entry %s", entry_id, exc_info=True)


def board_reveal_finish_if_done(*, course_exercise: CourseExercise) -> bool:
    """Opens the private board to students once no entry is waiting to be scored."""
    if LeaderboardEntry.objects.filter(course_exercise=course_exercise, private_status__in=PENDING).exists():
        return False
    return BoardReveal.objects.filter(course_exercise=course_exercise, revealed_at__isnull=True).update(
        revealed_at=timezone.now()) == 1


def _private_fields(computed: dict) -> dict:
    fid = finite_or_none(computed.get("fid"))
    if fid is None:
        raise ValidationError("Sampling again produced no FID.")
    low, high = fid_interval(computed.get("fid_interval"), fid)
    memorisation = computed.get("memorisation") if isinstance(computed.get("memorisation"), dict) else {}
    return {"private_fid": fid, "private_fid_low": low, "private_fid_high": high,
            "private_kid": finite_or_none(computed.get("kid")),
            "private_kid_std": finite_or_none(computed.get("kid_std")),
            "private_flagged": memorisation.get("flagged") is True}


def entry_resample(*, entry_id: int, sandbox_factory, resample=None, exercise_for=None) -> str:
    """Claims a queued entry (a conditional UPDATE), samples its checkpoint again with its private seed,
    scores it against the private part and stores the numbers. Returns done / failed / not-claimed.
    `resample` (grader.resample.resample) and `exercise_for` can be replaced by tests."""
    if resample is None:
        from grader.resample import resample
    if exercise_for is None:
        from workers.bundles import exercise_for_version as exercise_for

    claimed = LeaderboardEntry.objects.filter(pk=entry_id, private_status="queued").update(
        private_status="running", private_claimed_at=timezone.now())
    if not claimed:
        return "not-claimed"
    entry = LeaderboardEntry.objects.select_related("submission__exercise_version", "checkpoint",
                                                    "course_exercise__board_reveal").get(pk=entry_id)
    sub = entry.submission
    try:
        exercise, _ = exercise_for(sub.exercise_version)
        seed = entry_private_seed(reveal=entry.course_exercise.board_reveal, entry_id=entry.pk)
        computed = resample(exercise, sub.filename, bytes(sub.data), bytes(entry.checkpoint.data),
                            sandbox=sandbox_factory(queue_for(version=sub.exercise_version, profile=entry.profile)),
                            seed=seed, profile=entry.profile, part="private")
        LeaderboardEntry.objects.filter(pk=entry_id, private_status="running").update(
            private_status="done", private_error="", **_private_fields(computed))
        status = "done"
    except Exception as exc:  # the student's sample() failing now, or the host: recorded, shown to the instructor
        log.info("private sampling of entry %s failed: %s", entry_id, exc)
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        LeaderboardEntry.objects.filter(pk=entry_id, private_status="running").update(
            private_status="failed", private_error=message[:2000])
        status = "failed"
    board_reveal_finish_if_done(course_exercise=entry.course_exercise)
    return status


def entry_resample_requeue_stale(*, now=None) -> list[int]:
    """Private samplings whose worker died (running for over an hour: a sampling budget is minutes) go back
    to the queue, and queued ones whose message may have been lost (older than DGM_STALE_AFTER_S) are sent
    again; a duplicate is harmless, the claim lets one run. Called by the sweep."""
    now = now or timezone.now()
    stale = list(LeaderboardEntry.objects.filter(private_status="running",
                                                 private_claimed_at__lt=now - timedelta(hours=1))
                 .values_list("pk", flat=True))
    LeaderboardEntry.objects.filter(pk__in=stale, private_status="running").update(private_status="queued")
    old = now - timedelta(seconds=settings.GRADING_STALE_AFTER_S)
    resend = set(stale) | set(LeaderboardEntry.objects.filter(
        private_status="queued", course_exercise__board_reveal__requested_at__lt=old).values_list("pk", flat=True))
    for pk in sorted(resend):
        entry_resample_enqueue(entry_id=pk)
    return stale
