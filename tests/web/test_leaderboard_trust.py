"""A leaderboard students can trust, with a real database: ranks with uncertainty (overlapping FID
intervals tie), the instructor's review of memorisation flags with its report, and the public /
private boards (reveal after the deadline, re-sampling from stored checkpoints, nothing private
before the reveal through the API, the HTML or the CSV)."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard.models import BoardReveal, LeaderboardEntry
from leaderboard.private import board_reveal_request, entry_private_seed, entry_resample, entry_resample_requeue_stale
from leaderboard.selectors import leaderboard_for_viewer, ranks_with_ties
from leaderboard.services import leaderboard_entry_review

from .leaderboard_world import graded, tiny_png

CHECKPOINT = b"safetensors bytes of a checkpoint"


def board_of(w, viewer=None, instructor=True):
    return leaderboard_for_viewer(course_exercise=w.train_ce, user=viewer or w.instructor, instructor=instructor)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("entries, expected", [
    ([(10, 10, 10), (20, 20, 20), (30, 30, 30)], [(1, False), (2, False), (3, False)]),  # no intervals: plain
    ([(10, 8, 12), (11, 9, 13), (30, 28, 32)], [(1, True), (1, True), (3, False)]),  # overlap: a shared rank
    ([(10, 9, 11), (12, 10.5, 13.5), (14, 13, 15)], [(1, True), (1, True), (2, False)]),  # overlap is not transitive
    ([(10, 9, 11), (10, 9, 11)], [(1, True), (1, True)]),
    ([], []),
])
def test_ranks_count_only_the_entries_better_beyond_doubt(entries, expected):
    assert ranks_with_ties(entries) == expected


def test_entries_whose_intervals_overlap_are_shown_as_tied(board_world):
    w = board_world
    graded(w, w.owner, 100.0, interval=(95.0, 105.0), fidelity={"precision": 0.8, "recall": 0.4, "density": 0.9,
                                                              "coverage": 0.5})
    graded(w, w.peer, 103.0, interval=(98.0, 108.0))
    graded(w, w.third, 150.0, interval=(145.0, 155.0))
    board = board_of(w)
    assert [(r["name"], r["rank"], r["tied"]) for r in board.rows] == [
        ("owner", 1, True), ("peer", 1, True), ("third", 3, False)]
    assert board.rows[0]["precision"] == 0.8 and board.rows[0]["fid_low"] == 95.0
    page = client_for(w.owner).get(reverse("leaderboard:board", args=[w.course.slug, w.train_exercise.slug]))
    html = page.content.decode()
    assert html.count('class="tag tie"') == 2 and "(95.0–105.0)" in html and "0.80 / 0.40" in html


def test_an_interval_that_does_not_hold_the_estimate_is_ignored(board_world):
    w = board_world
    sub = graded(w, w.owner, 100.0, interval=(120.0, 130.0))
    entry = LeaderboardEntry.objects.get(submission=sub)
    assert entry.fid_low is None and entry.fid_high is None


def _flagged(w, user=None):
    memorisation = {"flagged_by_space": {"features": 12, "pixel": 3}, "thresholds": {"features": 0.21, "pixel": 1.4},
                    "report": [{"sample": 7, "space": "features", "distance": 0.05, "threshold": 0.21,
                                "nearest_split": "train", "nearest_index": 4242}],
                    "pairs_png": base64.b64encode(tiny_png()).decode()}
    return graded(w, user or w.owner, 20.0, flagged=True, share=0.4, memorisation=memorisation)


def test_the_instructor_reviews_a_flag_with_its_report_and_a_reason(board_world):
    w = board_world
    sub = _flagged(w)
    graded(w, w.peer, 50.0)
    assert [r["name"] for r in board_of(w).rows] == ["peer"]
    report_url = reverse("leaderboard:memorisation", args=[sub.pk])
    teacher = client_for(w.instructor)
    html = teacher.get(report_url).content.decode()
    assert "40.0" in html and "train #4242" in html and "features" in html and 'id="review-form"' in html
    png = teacher.get(reverse("leaderboard:memorisation_pairs", args=[sub.pk]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content == tiny_png()
    for url in (report_url, reverse("leaderboard:memorisation_pairs", args=[sub.pk])):
        assert client_for(w.owner).get(url).status_code == 404  # the instructor's, not the student's
    # the student's result JSON does not carry the pairs either
    api = client_for(w.owner).get(f"/api/submissions/{sub.pk}/").json()
    assert "pairs_png" not in str(api)

    entry = LeaderboardEntry.objects.get(submission=sub)
    with pytest.raises(ValidationError, match="reason"):
        leaderboard_entry_review(entry=entry, by=w.instructor, decision="cleared", reason=" ")
    with pytest.raises(ValidationError, match="Choose"):
        leaderboard_entry_review(entry=entry, by=w.instructor, decision="maybe", reason="x")
    response = teacher.post(reverse("leaderboard:review", args=[sub.pk]),
                            {"decision": "cleared", "reason": "The nearest images are other sneakers."})
    assert response.status_code == 302
    board = board_of(w)
    assert [r["name"] for r in board.rows] == ["owner", "peer"] and board.flagged == []
    student_page = client_for(w.owner).get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "cleared it (The nearest images are other sneakers.)" in student_page

    teacher.post(reverse("leaderboard:review", args=[sub.pk]), {"decision": "confirmed", "reason": "Copies."})
    board = board_of(w)
    assert [r["name"] for r in board.rows] == ["peer"] and [r["submission_id"] for r in board.flagged] == [sub.pk]
    assert "confirmed it: Copies." in client_for(w.owner).get(reverse("submission-detail", args=[sub.pk])
                                                              ).content.decode()


def test_only_flagged_entries_are_reviewed(board_world):
    w = board_world
    sub = graded(w, w.owner, 30.0)
    with pytest.raises(ValidationError, match="flagged"):
        leaderboard_entry_review(entry=sub.leaderboard_entry, by=w.instructor, decision="confirmed", reason="x")


def test_checkpoints_are_stored_with_entries_and_replaced_by_a_regrade(board_world):
    w = board_world
    sub = graded(w, w.owner, 30.0, checkpoint=CHECKPOINT)
    assert bytes(LeaderboardEntry.objects.get(submission=sub).checkpoint.data) == CHECKPOINT
    bare = graded(w, w.peer, 40.0)
    assert not hasattr(LeaderboardEntry.objects.get(submission=bare), "checkpoint")


class FakeSandboxes:
    """What entry_resample hands to the resampler: the queue it asked for."""

    def __init__(self):
        self.queues = []

    def __call__(self, queue):
        self.queues.append(queue)
        return f"sandbox for {queue}"


def _past_deadline(w):
    w.train_ce.deadline = timezone.now() - timedelta(hours=1)
    w.train_ce.save(update_fields=["deadline"])


def _all_text(w, viewer) -> str:
    """Everything a viewer can fetch about the board: its page, its API, and each entry's page and API."""
    client = client_for(viewer)
    parts = [client.get(reverse("leaderboard:board", args=[w.course.slug, w.train_exercise.slug])).content.decode(),
             client.get(f"/api/courses/{w.course.slug}/exercises/{w.train_exercise.slug}/leaderboard/"
                        ).content.decode()]
    for entry in LeaderboardEntry.objects.filter(user=viewer):
        parts.append(client.get(reverse("submission-detail", args=[entry.submission_id])).content.decode())
        parts.append(client.get(f"/api/submissions/{entry.submission_id}/").content.decode())
    return "\n".join(parts)


@pytest.fixture
def resamples_sent(monkeypatch):
    """Records the private samplings sent to the queue instead of sending them to Redis."""
    from leaderboard import tasks

    sent = []
    monkeypatch.setattr(tasks.resample_entry, "apply_async", lambda args=None, queue=None, **kw: sent.append(
        (args[0], queue)))
    return sent


def test_the_private_board_is_revealed_after_the_deadline_and_nothing_leaks_before(
        board_world, resamples_sent, django_capture_on_commit_callbacks):
    w = board_world
    subs = {"owner": graded(w, w.owner, 100.0, interval=(95.0, 105.0), checkpoint=CHECKPOINT),
            "peer": graded(w, w.peer, 120.0, interval=(115.0, 125.0), checkpoint=CHECKPOINT),
            "third": graded(w, w.third, 140.0)}  # graded before checkpoints were kept
    w.train_ce.deadline = timezone.now() + timedelta(days=1)
    w.train_ce.save(update_fields=["deadline"])
    with pytest.raises(ValidationError, match="deadline"):
        board_reveal_request(course_exercise=w.train_ce, by=w.instructor)
    assert not board_of(w).can_reveal

    _past_deadline(w)
    assert board_of(w).can_reveal
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(w.instructor).post(reverse("leaderboard:reveal", args=[w.course.slug,
                                                                                     w.train_exercise.slug]))
    assert response.status_code == 302
    reveal = BoardReveal.objects.get(course_exercise=w.train_ce)
    with pytest.raises(ValidationError, match="already"):
        board_reveal_request(course_exercise=w.train_ce, by=w.instructor)
    states = dict(LeaderboardEntry.objects.values_list("user__username", "private_status"))
    assert states == {"owner": "queued", "peer": "queued", "third": "failed"}
    assert sorted(resamples_sent) == sorted((LeaderboardEntry.objects.get(submission=subs[name]).pk, "training")
                                            for name in ("owner", "peer"))

    # While it is being scored: the instructor sees progress, students see nothing private.
    calls = []
    private_fids = {subs["owner"].pk: 131.5, subs["peer"].pk: 97.25}

    def resample(exercise, filename, data, checkpoint, *, sandbox, seed, profile, part):
        calls.append((exercise, filename, checkpoint, sandbox, seed, profile, part))
        fid = private_fids[LeaderboardEntry.objects.get(private_status="running").submission_id]
        return {"fid": fid, "fid_interval": [fid - 2.0, fid + 2.0], "kid": 0.0123, "kid_std": 0.0011,
                "memorisation": {"flagged": False}}

    sandboxes = FakeSandboxes()
    owner_entry = LeaderboardEntry.objects.get(submission=subs["owner"])
    assert entry_resample(entry_id=owner_entry.pk, sandbox_factory=sandboxes, resample=resample,
                          exercise_for=lambda version: ("exercise", "digest")) == "done"
    assert entry_resample(entry_id=owner_entry.pk, sandbox_factory=sandboxes, resample=resample,
                          exercise_for=lambda version: ("exercise", "digest")) == "not-claimed"
    assert board_of(w).reveal == "scoring"
    for viewer in (w.owner, w.peer, w.third):
        text = _all_text(w, viewer)
        assert "131.5" not in text and "private-board" not in text and str(reveal.seed) not in text
    assert "131.5" in client_for(w.instructor).get(
        reverse("leaderboard:board", args=[w.course.slug, w.train_exercise.slug])).content.decode()
    csv_during = client_for(w.instructor).get(reverse("leaderboard:csv", args=[w.course.slug, w.train_exercise.slug]))
    assert str(reveal.seed) not in csv_during.content.decode()
    assert client_for(w.owner).get(reverse("leaderboard:csv", args=[w.course.slug, w.train_exercise.slug])
                                   ).status_code == 404

    peer_entry = LeaderboardEntry.objects.get(submission=subs["peer"])
    entry_resample(entry_id=peer_entry.pk, sandbox_factory=sandboxes, resample=resample,
                   exercise_for=lambda version: ("exercise", "digest"))
    # Each entry sampled its own checkpoint with its own seed derived from the secret, against the private part.
    assert [c[2] for c in calls] == [CHECKPOINT, CHECKPOINT] and {c[6] for c in calls} == {"private"}
    assert [c[4] for c in calls] == [entry_private_seed(reveal=reveal, entry_id=owner_entry.pk),
                                     entry_private_seed(reveal=reveal, entry_id=peer_entry.pk)]
    assert calls[0][4] != calls[1][4] and sandboxes.queues == ["training", "training"]

    # Every entry is done: students see both boards; the private one ranks by the new numbers.
    reveal.refresh_from_db()
    assert reveal.revealed_at is not None
    board = board_of(w, viewer=w.owner, instructor=False)
    assert board.reveal == "revealed"
    assert [(r["name"], r["rank"], r["private_fid"]) for r in board.private_rows] == [
        ("peer", 1, 97.25), ("owner", 2, 131.5)]
    text = _all_text(w, w.owner)
    assert "131.5" in text and 'id="private-board"' in text and str(reveal.seed) not in text
    csv = client_for(w.instructor).get(reverse("leaderboard:csv", args=[w.course.slug, w.train_exercise.slug])
                                       ).content.decode().splitlines()
    assert csv[0].startswith("board,rank,tied,")
    private_lines = [line for line in csv if line.startswith("private,")]
    assert len(private_lines) == 3 and "97.25" in private_lines[0] and "No checkpoint" in private_lines[2]
    assert str(reveal.seed) not in "\n".join(csv)


def test_a_private_sampling_that_fails_is_recorded_and_a_stale_one_is_sent_again(
        board_world, resamples_sent, django_capture_on_commit_callbacks):
    w = board_world
    sub = graded(w, w.owner, 100.0, checkpoint=CHECKPOINT)
    _past_deadline(w)
    with django_capture_on_commit_callbacks(execute=True):
        board_reveal_request(course_exercise=w.train_ce, by=w.instructor)
    entry = LeaderboardEntry.objects.get(submission=sub)

    def broken(*args, **kwargs):
        raise RuntimeError("Sampling again failed (error): your sample() raised KeyError: 'decoder'")

    assert entry_resample(entry_id=entry.pk, sandbox_factory=FakeSandboxes(), resample=broken,
                          exercise_for=lambda version: ("exercise", "digest")) == "failed"
    entry.refresh_from_db()
    assert entry.private_status == "failed" and "KeyError" in entry.private_error
    assert BoardReveal.objects.get(course_exercise=w.train_ce).revealed_at is not None  # nothing left to wait for

    LeaderboardEntry.objects.filter(pk=entry.pk).update(private_status="running",
                                                        private_claimed_at=timezone.now() - timedelta(hours=2))
    resamples_sent.clear()
    assert entry_resample_requeue_stale() == [entry.pk]
    entry.refresh_from_db()
    assert entry.private_status == "queued" and resamples_sent == [(entry.pk, "training")]
