"""Reads for the leaderboards: the board as a viewer may see it, an entry's standing, the CSV export.

The board of a course exercise compares the entries of one training profile (the deployment's
TRAINING_PROFILE): FID depends on the number of samples and the training budget. Each student has
one row: the entry they chose, else their best (lowest FID, then earliest submission). Flagged
(memorising) and disqualified entries are off the board. Reference baselines are rows without a rank."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from catalog.models import CourseExercise
from catalog.selectors import course_exercise_get_for_member, version_budget_s
from courses.models import Enrollment
from submissions.selectors import decode_png

from .charts import loss_curve_svg
from .models import Baseline, BoardReveal, LeaderboardEntry
from .pseudonyms import pseudonym_for

FID_LABEL = "FID (Fashion-MNIST features)"  # the heading of a board that has no entry yet


def course_exercise_get_for_board(*, user, course_slug: str, exercise_slug: str) -> tuple[CourseExercise, str]:
    """A training exercise of a course the user is a member of, and their role; 404 for anyone else
    and for exercises without a leaderboard."""
    ce, role = course_exercise_get_for_member(user=user, course_slug=course_slug, exercise_slug=exercise_slug)
    version = ce.exercise.current_version
    if version is None or not version.is_training:
        raise Http404("This exercise has no leaderboard")
    return ce, role


def board_is_visible(*, course_exercise: CourseExercise, instructor: bool, now=None) -> bool:
    """Instructors always see the board; students unless it is hidden until a deadline still to come
    (hidden with no deadline set: hidden)."""
    if instructor or not course_exercise.leaderboard_hidden_until_deadline:
        return True
    now = now or timezone.now()
    return course_exercise.deadline is not None and now > course_exercise.deadline


def _rank_key(entry: LeaderboardEntry) -> tuple:
    return entry.fid, entry.submitted_at, entry.submission_id


def board_entries(*, course_exercise: CourseExercise, profile: str) -> list[LeaderboardEntry]:
    """One entry per student, ranked: the chosen one if it is eligible, else the best eligible one."""
    entries = (LeaderboardEntry.objects.filter(course_exercise=course_exercise, profile=profile,
                                               disqualified_at__isnull=True)
               .filter(Q(flagged=False) | Q(review="cleared")).select_related("user"))
    per_user: dict[int, LeaderboardEntry] = {}
    for entry in entries:
        current = per_user.get(entry.user_id)
        if current is None or (entry.chosen, current.chosen) == (True, False) or (
                entry.chosen == current.chosen and _rank_key(entry) < _rank_key(current)):
            per_user[entry.user_id] = entry
    return sorted(per_user.values(), key=_rank_key)


def board_baseline(*, course_exercise: CourseExercise, profile: str) -> Baseline | None:
    """The reference solution's row: the newest computed baseline of the exercise for this profile
    (normally that of its current version)."""
    return (Baseline.objects.filter(exercise_version__exercise_id=course_exercise.exercise_id, profile=profile,
                                    status=Baseline.Status.DONE)
            .select_related("exercise_version").order_by("-computed_at", "-id").first())


def _numbers(source) -> dict:
    return {"fid": source.fid, "fid_label": source.fid_label, "kid": source.kid, "kid_std": source.kid_std,
            "fid_low": source.fid_low, "fid_high": source.fid_high, "precision": source.precision,
            "recall": source.recall, "n_samples": source.n_samples, "steps": source.steps, "device": source.device,
            "train_seconds": source.train_seconds, "sample_seconds": source.sample_seconds}


def ranks_with_ties(intervals: list[tuple[float, float, float]]) -> list[tuple[int, bool]]:
    """(rank, tied) for entries given as (score, low, high), lower is better, in board order.

    An entry's rank is 1 + the number of entries that are better beyond doubt: whose interval lies
    wholly below its own (high < its low). Entries whose intervals overlap are not ordered by noise, so
    they share a rank; `tied` says another entry has the same rank. Without an interval (low = high =
    score) this is plain ranking by the score, equal scores tied."""
    ranks = [1 + sum(1 for _, _, other_high in intervals if other_high < low) for _, low, _ in intervals]
    return [(rank, ranks.count(rank) > 1) for rank in ranks]


def _interval(fid: float, low: float | None, high: float | None) -> tuple[float, float, float]:
    return (fid, fid, fid) if low is None or high is None else (fid, min(low, fid), max(high, fid))


def _wall_seconds(row: dict) -> float | None:
    parts = [s for s in (row["train_seconds"], row["sample_seconds"]) if s is not None]
    return sum(parts) if parts else None


@dataclass
class Board:
    course_exercise: CourseExercise
    profile: str
    instructor: bool
    pseudonyms: bool
    visible: bool
    fid_label: str = FID_LABEL
    n_samples: int | None = None  # of an FID board, samples per entry (per rung of a race); of a likelihood
    # board, test images scored
    metric: str = "fid"  # grader's TrainingSpec.metric: "fid", "bits_per_dim" or a race's "steps_to_fid"

    @property
    def likelihood(self) -> bool:
        """Ranked by the judge's bits/dim of the test split (no samples, no KID)."""
        return self.metric == "bits_per_dim"

    @property
    def race(self) -> bool:
        """Ranked by the DDIM steps to the target FID (no interval, no KID)."""
        return self.metric == "steps_to_fid"

    @property
    def digits(self) -> int:
        """Decimals of a score: bits/dim differ in the second decimal, FIDs in units."""
        return 3 if self.likelihood else 2

    @property
    def interval_digits(self) -> int:
        return 3 if self.likelihood else 1
    rows: list[dict] = field(default_factory=list)  # ranked students and the baseline, best first
    flagged: list[dict] = field(default_factory=list)  # instructors only
    disqualified: list[dict] = field(default_factory=list)  # instructors only
    current_baseline: Baseline | None = None  # instructors only: that of the current version, in any state
    reveal: str = ""  # "" (public board only), "scoring" (the private board is being scored), "revealed"
    private_rows: list[dict] = field(default_factory=list)  # after the reveal; instructors also while scoring
    can_reveal: bool = False  # instructors: after the deadline, before a reveal


def _entry_row(entry: LeaderboardEntry, *, course_id: int, viewer, instructor: bool, pseudonyms: bool,
               rank: int | None) -> dict:
    """What a viewer sees of an entry: a peer never gets another student's name, username or
    submission when the course uses pseudonyms; an instructor gets both names."""
    pseudonym = pseudonym_for(course_id=course_id, user_id=entry.user_id)
    is_you = entry.user_id == viewer.pk
    row = {"rank": rank, "tied": False, "baseline": False, "is_you": is_you,
           "name": pseudonym if pseudonyms and not instructor else entry.user.username,
           "profile": entry.profile, "submitted_at": entry.submitted_at, **_numbers(entry)}
    row["wall_seconds"] = _wall_seconds(row)
    if instructor or is_you:
        row.update(submission_id=entry.submission_id, chosen=entry.chosen)
    if instructor:
        row.update(username=entry.user.username, full_name=entry.user.get_full_name(), pseudonym=pseudonym,
                   memorisation_share=entry.memorisation_share, flagged=entry.flagged, review=entry.review,
                   review_reason=entry.review_reason,
                   disqualified=entry.is_disqualified, disqualified_reason=entry.disqualified_reason,
                   disqualified_at=entry.disqualified_at)
    return row


def leaderboard_for_viewer(*, course_exercise: CourseExercise, user, instructor: bool, now=None) -> Board:
    profile = settings.TRAINING_PROFILE
    board = Board(course_exercise=course_exercise, profile=profile, instructor=instructor,
                  pseudonyms=course_exercise.course.leaderboard_pseudonyms,
                  visible=board_is_visible(course_exercise=course_exercise, instructor=instructor, now=now))
    version = course_exercise.exercise.current_version
    board.n_samples = version.training.get("profiles", {}).get(profile, {}).get("n_samples") if version else None
    board.metric = version.training.get("metric", "fid") if version else "fid"
    if not board.visible:
        return board
    kwargs = {"course_id": course_exercise.course_id, "viewer": user, "instructor": instructor,
              "pseudonyms": board.pseudonyms}
    ranked = board_entries(course_exercise=course_exercise, profile=profile)
    ranks = ranks_with_ties([_interval(e.fid, e.fid_low, e.fid_high) for e in ranked])
    rows = []
    for entry, (rank, tied) in zip(ranked, ranks, strict=True):
        rows.append({**_entry_row(entry, rank=rank, **kwargs), "tied": tied})
    baseline = board_baseline(course_exercise=course_exercise, profile=profile)
    if baseline is not None:
        row = {"rank": None, "tied": False, "baseline": True, "is_you": False, "name": baseline.label,
               "profile": profile,
               "submitted_at": baseline.computed_at, "exercise_version": baseline.exercise_version.version,
               **_numbers(baseline)}
        row["wall_seconds"] = _wall_seconds(row)
        # Among the students by FID; on a tie the baseline goes first.
        position = next((i for i, r in enumerate(rows) if r["fid"] >= baseline.fid), len(rows))
        rows.insert(position, row)
    board.rows = rows
    board.fid_label = next((r["fid_label"] for r in rows), FID_LABEL)
    _private_board(board, user=user, now=now, kwargs=kwargs)
    if instructor:
        board.current_baseline = Baseline.objects.filter(exercise_version=version, profile=profile).first()
        off = (LeaderboardEntry.objects.filter(course_exercise=course_exercise, profile=profile)
               .filter(Q(disqualified_at__isnull=False) | (Q(flagged=True) & ~Q(review="cleared")))
               .select_related("user"))
        for entry in sorted(off, key=_rank_key):
            row = _entry_row(entry, rank=None, **kwargs)
            (board.disqualified if entry.is_disqualified else board.flagged).append(row)
    return board


def _private_board(board: Board, *, user, now, kwargs: dict) -> None:
    """The private board's state and rows: students see them once every entry is scored; instructors
    also while the entries are being scored. The secret seed is never part of a row."""
    ce = board.course_exercise
    reveal = BoardReveal.objects.filter(course_exercise=ce).first()
    if reveal is None:
        board.can_reveal = board.instructor and ce.deadline is not None and (now or timezone.now()) > ce.deadline
        return
    board.reveal = "revealed" if reveal.revealed_at else "scoring"
    if board.reveal != "revealed" and not board.instructor:
        return
    board.private_rows = private_rows(course_exercise=ce, profile=board.profile, instructor=board.instructor,
                                      kwargs=kwargs)


def private_rows(*, course_exercise: CourseExercise, profile: str, instructor: bool, kwargs: dict) -> list[dict]:
    """The entries sampled again for the private board, ranked by their private FID (with ties as on the
    public board); entries that failed to sample, or memorised this time, are listed after them for the
    instructor."""
    entries = list(LeaderboardEntry.objects.filter(course_exercise=course_exercise, profile=profile)
                   .exclude(private_status="").select_related("user"))
    scored = sorted((e for e in entries if e.private_status == "done" and not e.private_flagged),
                    key=lambda e: (e.private_fid, e.submitted_at, e.submission_id))
    ranks = ranks_with_ties([_interval(e.private_fid, e.private_fid_low, e.private_fid_high) for e in scored])
    rows = []
    for entry, (rank, tied) in zip(scored, ranks, strict=True):
        rows.append({**_entry_row(entry, rank=rank, **kwargs), "tied": tied, **_private_numbers(entry)})
    if instructor:
        for entry in entries:
            if entry.private_status != "done" or entry.private_flagged:
                rows.append({**_entry_row(entry, rank=None, **kwargs), **_private_numbers(entry)})
    return rows


def _private_numbers(entry: LeaderboardEntry) -> dict:
    return {"private_status": entry.private_status, "private_fid": entry.private_fid,
            "private_fid_low": entry.private_fid_low, "private_fid_high": entry.private_fid_high,
            "private_kid": entry.private_kid, "private_kid_std": entry.private_kid_std,
            "private_flagged": entry.private_flagged, "private_error": entry.private_error}


def entry_standing(*, submission, instructor: bool, now=None) -> dict | None:
    """The leaderboard state of one submission, for its page and the API: its entry's numbers and
    moderation, and whether and where it stands on the board (None without an entry)."""
    entry = LeaderboardEntry.objects.filter(submission=submission).first()
    if entry is None:
        return None
    ce = submission.course_exercise
    visible = board_is_visible(course_exercise=ce, instructor=instructor, now=now)
    standing = {"profile": entry.profile, "board_profile": settings.TRAINING_PROFILE, "chosen": entry.chosen,
                "flagged": entry.flagged, "memorisation_share": entry.memorisation_share,
                "disqualified": entry.is_disqualified, "disqualified_reason": entry.disqualified_reason,
                "board_visible": visible, "on_board": False, "rank": None, "board_submission_id": None,
                "board_size": None, **_numbers(entry)}
    standing.update(review=entry.review, review_reason=entry.review_reason,
                    off_for_memorising=entry.is_off_for_memorising, private=None)
    if visible and entry.profile == settings.TRAINING_PROFILE:
        ranked = board_entries(course_exercise=ce, profile=entry.profile)
        ranks = ranks_with_ties([_interval(e.fid, e.fid_low, e.fid_high) for e in ranked])
        standing["board_size"] = len(ranked)
        for row, (rank, tied) in zip(ranked, ranks, strict=True):
            if row.user_id == entry.user_id:
                standing.update(rank=rank, tied=tied, on_board=row.pk == entry.pk,
                                board_submission_id=row.submission_id)
        reveal = BoardReveal.objects.filter(course_exercise=ce).first()
        if reveal is not None and (reveal.revealed_at or instructor) and entry.private_status:
            standing["private"] = _private_numbers(entry)
    return standing


def submission_training_panel(*, submission, result: dict, instructor: bool) -> dict | None:
    """What a training exercise's submission page shows besides the checks: while it is pending, how long
    training may take; once graded, the loss curve, the sample grid, FID/KID, memorisation and the
    submission's standing on the board. None for the other exercises."""
    version = submission.exercise_version
    if not version.is_training:
        return None
    profile = submission.training_profile or settings.TRAINING_PROFILE
    budget_s = version_budget_s(version=version, profile=profile)
    training = result.get("training") if isinstance(result.get("training"), dict) else {}
    ce = submission.course_exercise
    return {"profile": profile, "budget_minutes": math.ceil(budget_s / 60) if budget_s else None,
            "training": training, "loss_svg": loss_curve_svg(loss=training.get("loss") or {}),
            "memorisation": training.get("memorisation") if isinstance(training.get("memorisation"), dict) else None,
            "standing": entry_standing(submission=submission, instructor=instructor),
            "board_url": reverse("leaderboard:board", args=[ce.course.slug, ce.exercise.slug])}


def entry_get_for_owner(*, user, submission_id: int) -> LeaderboardEntry:
    entry = (LeaderboardEntry.objects.select_related("course_exercise__course")
             .filter(submission_id=submission_id, user_id=user.pk).first())
    if entry is None:
        raise Http404("No leaderboard entry")
    return entry


def entry_get_for_instructor(*, user, submission_id: int) -> LeaderboardEntry:
    entry = (LeaderboardEntry.objects.select_related("course_exercise__course")
             .filter(submission_id=submission_id).first())
    if entry is None or not Enrollment.objects.filter(user=user, course=entry.course_exercise.course,
                                                      role=Enrollment.Role.INSTRUCTOR).exists():
        raise Http404("No leaderboard entry")
    return entry


CSV_HEADER = ["board", "rank", "tied", "kind", "username", "name", "pseudonym", "submission", "submitted_at",
              "fid_label", "fid", "fid_low", "fid_high", "kid", "kid_std", "precision", "recall", "n_samples",
              "profile", "device", "steps", "train_seconds", "sample_seconds", "memorisation_share", "status",
              "reason"]


def leaderboard_csv_rows(*, board: Board) -> list[list]:
    """The instructor's export: the public board (students and the baseline), then the flagged and the
    disqualified entries with the reason, then the private board (its FID and KID in the same columns,
    `board` = "private") once it exists. Values as they are; the view neutralises text cells."""
    def line(row: dict, status: str, which: str = "public") -> list:
        prefix = "private_" if which == "private" else ""
        reason = row.get("disqualified_reason") or row.get("review_reason") or row.get("private_error") or ""
        return [which, row["rank"], row.get("tied", False), "baseline" if row["baseline"] else "student",
                row.get("username", ""), row.get("full_name", row["name"] if row["baseline"] else ""),
                row.get("pseudonym", ""), row.get("submission_id", ""),
                row["submitted_at"].isoformat() if row["submitted_at"] else "", row["fid_label"],
                row.get(f"{prefix}fid"), row.get(f"{prefix}fid_low"), row.get(f"{prefix}fid_high"),
                row.get(f"{prefix}kid"), row.get(f"{prefix}kid_std"),
                None if which == "private" else row.get("precision"), None if which == "private" else row.get("recall"),
                row["n_samples"], row["profile"], row["device"], row["steps"], row["train_seconds"],
                row["sample_seconds"], row.get("memorisation_share"), status, reason]

    def private_status(row: dict) -> str:
        if row["private_status"] == "done":
            return "flagged: memorises training images" if row["private_flagged"] else "ranked"
        return row["private_status"]

    return ([line(r, "baseline" if r["baseline"] else "ranked") for r in board.rows]
            + [line(r, "flagged: memorises training images") for r in board.flagged]
            + [line(r, "disqualified") for r in board.disqualified]
            + [line(r, private_status(r), "private") for r in board.private_rows])


def _memorisation_block(entry: LeaderboardEntry) -> dict:
    training = (entry.submission.result or {}).get("training")
    memorisation = training.get("memorisation") if isinstance(training, dict) else None
    return memorisation if isinstance(memorisation, dict) else {}


def memorisation_report(*, entry: LeaderboardEntry) -> dict:
    """The instructor's report on a flagged entry, from its result (made by the trusted judge): the share
    memorised, the thresholds, how many samples each space flagged, and the closest memorised samples with
    their nearest dataset image (`pairs_url`: the sample beside it, one row per item)."""
    block = _memorisation_block(entry)
    items = [item for item in block.get("report", []) if isinstance(item, dict)][:50]
    thresholds = block.get("thresholds") if isinstance(block.get("thresholds"), dict) else {}
    by_space = block.get("flagged_by_space") if isinstance(block.get("flagged_by_space"), dict) else {}
    has_pairs = isinstance(block.get("pairs_png"), str) and bool(block.get("pairs_png"))
    return {"share": block.get("share"), "allowed_share": block.get("allowed_share"),
            "flagged": entry.flagged, "thresholds": thresholds, "flagged_by_space": by_space, "items": items,
            "pairs_url": reverse("leaderboard:memorisation_pairs", args=[entry.submission_id]) if has_pairs else None,
            "review": entry.review, "review_reason": entry.review_reason, "reviewed_at": entry.reviewed_at,
            "reviewed_by": entry.reviewed_by.username if entry.reviewed_by else ""}


def memorisation_pairs_png(*, entry: LeaderboardEntry) -> bytes | None:
    """The PNG of the report's pairs, or None."""
    return decode_png(_memorisation_block(entry).get("pairs_png"))
