"""The leaderboard's rules, with a real database: entries from finished gradings, ranking (FID, then
time), best versus chosen, moderation, memorisation, profiles, regrades, baselines, pseudonyms."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from leaderboard.models import LeaderboardEntry
from leaderboard.pseudonyms import pseudonym_for
from leaderboard.selectors import board_is_visible, entry_standing, leaderboard_for_viewer
from leaderboard.services import (
    baseline_store,
    entry_fields_from_result,
    leaderboard_choice_clear,
    leaderboard_entry_choose,
    leaderboard_entry_disqualify,
    leaderboard_entry_reinstate,
)
from submissions.models import Submission
from submissions.services import submission_regrade

from .leaderboard_world import FID_LABEL, finish, graded, training_result


def board_of(w, viewer=None, instructor=True):
    return leaderboard_for_viewer(course_exercise=w.train_ce, user=viewer or w.instructor, instructor=instructor)


def names_and_ranks(board):
    return [(r["name"], r["rank"]) for r in board.rows]


def test_a_finished_grading_makes_an_entry_with_the_results_numbers(board_world):
    sub = graded(board_world, board_world.owner, 42.5, kid=0.031, kid_std=0.004)
    entry = LeaderboardEntry.objects.get(submission=sub)
    assert (entry.user, entry.course_exercise, entry.profile) == (board_world.owner, board_world.train_ce, "cpu")
    assert (entry.fid, entry.fid_label, entry.kid, entry.kid_std, entry.n_samples) == (42.5, FID_LABEL, 0.031,
                                                                                      0.004, 1000)
    # compute used: the steps done, not the budget's
    assert (entry.steps, entry.device, entry.train_seconds, entry.sample_seconds) == (1800, "cpu", 412.5, 30.2)
    assert entry.submitted_at == sub.created_at and not entry.flagged and entry.memorisation_share == 0.0
    result = training_result(42.0)
    result["training"].update(n_samples=1000.0, steps_done=2000.0)  # integral floats count too
    assert entry_fields_from_result(result)["n_samples"] == 1000
    result["training"]["n_samples"] = 999.5
    assert entry_fields_from_result(result) is None


@pytest.mark.parametrize("result", [
    training_result(40.0, status="error"),  # not graded
    training_result(40.0, leaderboard=False),  # training or sampling failed: no leaderboard entries
    training_result(None),  # no FID
    {"status": "graded", "score": 1.0, "max_score": 4.0, "tests": [], "leaderboard": [], "training": {}},
])
def test_no_entry_without_a_graded_fid(board_world, result):
    sub = graded(board_world, board_world.owner, 40.0)
    regraded = Submission.objects.get(pk=sub.pk)
    assert submission_regrade(submission=regraded)
    finish(regraded, result)
    assert not LeaderboardEntry.objects.filter(submission=sub).exists()


def test_lower_fid_ranks_higher_and_equal_fids_share_a_rank_earlier_first(board_world):
    w = board_world
    graded(w, w.owner, 50.0, created_at=w.now - timedelta(hours=1))
    graded(w, w.peer, 50.0, created_at=w.now - timedelta(hours=2))  # same FID, earlier
    graded(w, w.third, 20.0, created_at=w.now)
    board = board_of(w)
    assert names_and_ranks(board) == [("third", 1), ("peer", 2), ("owner", 2)]
    assert [r["tied"] for r in board.rows] == [False, True, True]


def test_a_students_best_entry_by_default_and_the_chosen_one_when_picked(board_world):
    w = board_world
    worse = graded(w, w.owner, 80.0)
    best = graded(w, w.owner, 30.0)
    graded(w, w.peer, 50.0)
    board = board_of(w)
    assert names_and_ranks(board) == [("owner", 1), ("peer", 2)]
    assert board.rows[0]["submission_id"] == best.pk and len(board.rows) == 2  # one row per student

    leaderboard_entry_choose(user=w.owner, entry=worse.leaderboard_entry)
    board = board_of(w)
    assert names_and_ranks(board) == [("peer", 1), ("owner", 2)]
    assert board.rows[1]["submission_id"] == worse.pk and board.rows[1]["chosen"]
    standing = entry_standing(submission=best, instructor=False)
    assert not standing["on_board"] and standing["board_submission_id"] == worse.pk and standing["rank"] == 2

    leaderboard_entry_choose(user=w.owner, entry=best.leaderboard_entry)  # a new choice replaces the old one
    assert LeaderboardEntry.objects.filter(user=w.owner, chosen=True).get().submission_id == best.pk
    leaderboard_choice_clear(user=w.owner, course_exercise=w.train_ce)
    assert not LeaderboardEntry.objects.filter(user=w.owner, chosen=True).exists()
    assert board_of(w).rows[0]["submission_id"] == best.pk


def test_a_choice_must_be_the_students_own_eligible_entry_of_the_boards_profile(board_world):
    w = board_world
    flagged = graded(w, w.owner, 10.0, flagged=True, share=0.4)
    tiny = graded(w, w.owner, 10.0, profile="tiny", n=200)
    fine = graded(w, w.owner, 60.0)
    with pytest.raises(ValidationError, match="memorising"):
        leaderboard_entry_choose(user=w.owner, entry=flagged.leaderboard_entry)
    with pytest.raises(ValidationError, match="profile 'tiny'"):
        leaderboard_entry_choose(user=w.owner, entry=tiny.leaderboard_entry)
    with pytest.raises(ValidationError, match="Only the student"):
        leaderboard_entry_choose(user=w.peer, entry=fine.leaderboard_entry)
    leaderboard_entry_disqualify(entry=fine.leaderboard_entry, by=w.instructor, reason="Trained on the test set.")
    fine.leaderboard_entry.refresh_from_db()
    with pytest.raises(ValidationError, match="disqualified"):
        leaderboard_entry_choose(user=w.owner, entry=fine.leaderboard_entry)
    assert not LeaderboardEntry.objects.filter(chosen=True).exists()


def test_disqualified_entries_leave_the_board_with_a_reason_and_can_be_reinstated(board_world):
    w = board_world
    best = graded(w, w.owner, 10.0)
    graded(w, w.owner, 40.0)
    graded(w, w.peer, 30.0)
    with pytest.raises(ValidationError, match="reason"):
        leaderboard_entry_disqualify(entry=best.leaderboard_entry, by=w.instructor, reason="  ")
    leaderboard_entry_disqualify(entry=best.leaderboard_entry, by=w.instructor, reason="Used the test split.")
    board = board_of(w)
    assert [(r["name"], r["fid"]) for r in board.rows] == [("peer", 30.0), ("owner", 40.0)]  # the next best
    assert [(r["submission_id"], r["disqualified_reason"]) for r in board.disqualified] == [
        (best.pk, "Used the test split.")]
    standing = entry_standing(submission=best, instructor=False)
    assert standing["disqualified"] and standing["disqualified_reason"] == "Used the test split."
    assert not standing["on_board"]

    leaderboard_entry_reinstate(entry=best.leaderboard_entry)
    board = board_of(w)
    assert [(r["name"], r["fid"]) for r in board.rows] == [("owner", 10.0), ("peer", 30.0)]
    assert board.disqualified == []


def test_memorising_entries_stay_off_the_board_and_are_shown_to_the_instructor(board_world):
    w = board_world
    flagged = graded(w, w.owner, 5.0, flagged=True, share=0.31)
    graded(w, w.peer, 30.0)
    board = board_of(w)
    assert names_and_ranks(board) == [("peer", 1)]
    assert [(r["username"], r["memorisation_share"]) for r in board.flagged] == [("owner", 0.31)]
    assert board_of(w, viewer=w.peer, instructor=False).flagged == []
    standing = entry_standing(submission=flagged, instructor=False)
    assert standing["flagged"] and standing["rank"] is None


def test_only_the_active_profile_is_compared(board_world, settings):
    w = board_world
    graded(w, w.owner, 10.0, profile="tiny", n=200)
    graded(w, w.peer, 30.0)
    board = board_of(w)
    assert board.profile == "cpu" and board.n_samples == 1000
    assert names_and_ranks(board) == [("peer", 1)]
    settings.TRAINING_PROFILE = "tiny"
    board = board_of(w)
    assert (board.profile, board.n_samples, names_and_ranks(board)) == ("tiny", 200, [("owner", 1)])


def test_a_regrade_replaces_the_entrys_numbers_and_keeps_moderation_and_choice(board_world):
    w = board_world
    sub = graded(w, w.owner, 70.0)
    graded(w, w.owner, 20.0)
    leaderboard_entry_choose(user=w.owner, entry=sub.leaderboard_entry)
    assert submission_regrade(submission=sub, requested_by=w.instructor)
    assert LeaderboardEntry.objects.get(submission=sub).fid == 70.0  # until the regrade finishes
    finish(sub, training_result(55.0, kid=0.02))
    entry = LeaderboardEntry.objects.get(submission=sub)
    assert (entry.fid, entry.kid, entry.chosen) == (55.0, 0.02, True)
    assert board_of(w).rows[0]["fid"] == 55.0

    leaderboard_entry_disqualify(entry=entry, by=w.instructor, reason="Copied a classmate.")
    assert submission_regrade(submission=sub, requested_by=w.instructor)
    finish(sub, training_result(54.0, flagged=True, share=0.2))
    entry.refresh_from_db()
    assert (entry.fid, entry.flagged, entry.disqualified_reason) == (54.0, True, "Copied a classmate.")


def test_baselines_are_rows_without_a_rank(board_world):
    w = board_world
    graded(w, w.owner, 20.0)
    graded(w, w.peer, 90.0)
    baseline_store(exercise_version=w.train_version, profile="cpu",
                   computed={**training_result(45.0)["training"], "label": "Reference solution",
                             "exercise_version": w.train_version.version})
    baseline_store(exercise_version=w.train_version, profile="tiny",
                   computed={**training_result(5.0, profile="tiny")["training"], "label": "Reference solution"})
    rows = board_of(w, viewer=w.peer, instructor=False).rows
    assert [(r["name"], r["rank"], r["baseline"]) for r in rows] == [
        ("owner", 1, False), ("Reference solution", None, True), ("peer", 2, False)]
    assert rows[1]["fid"] == 45.0 and rows[1]["n_samples"] == 1000 and rows[1]["exercise_version"] == "toyversion01"


def test_hidden_until_the_deadline_for_students_only(board_world):
    w = board_world
    ce = w.train_ce
    assert board_is_visible(course_exercise=ce, instructor=False)
    ce.leaderboard_hidden_until_deadline = True
    assert not board_is_visible(course_exercise=ce, instructor=False)  # no deadline yet: hidden
    assert board_is_visible(course_exercise=ce, instructor=True)
    ce.deadline = w.now + timedelta(days=1)
    assert not board_is_visible(course_exercise=ce, instructor=False)
    assert board_is_visible(course_exercise=ce, instructor=False, now=w.now + timedelta(days=2))
    ce.save()
    sub = graded(w, w.owner, 20.0)
    board = board_of(w, viewer=w.owner, instructor=False)
    assert not board.visible and board.rows == []
    standing = entry_standing(submission=sub, instructor=False)
    assert not standing["board_visible"] and standing["rank"] is None and standing["fid"] == 20.0


def test_pseudonyms_are_stable_per_student_and_course_and_hide_names_from_peers(board_world):
    w = board_world
    first = pseudonym_for(course_id=w.course.pk, user_id=w.owner.pk)
    assert first == pseudonym_for(course_id=w.course.pk, user_id=w.owner.pk)
    assert first != pseudonym_for(course_id=w.course.pk + 1, user_id=w.owner.pk)
    adjective, animal, number = first.split("-")
    assert adjective.isalpha() and animal.isalpha() and len(number) == 2
    names = {pseudonym_for(course_id=1, user_id=u) for u in range(300)}
    assert len(names) > 290  # rare collisions

    graded(w, w.owner, 20.0)
    graded(w, w.peer, 30.0)
    w.course.leaderboard_pseudonyms = True
    w.course.save()
    w.train_ce.refresh_from_db()
    peer_view = board_of(w, viewer=w.peer, instructor=False)
    assert [r["name"] for r in peer_view.rows] == [first, pseudonym_for(course_id=w.course.pk, user_id=w.peer.pk)]
    owner_row, peer_row = peer_view.rows
    assert "username" not in owner_row and "submission_id" not in owner_row and "pseudonym" not in owner_row
    assert peer_row["is_you"] and peer_row["submission_id"]
    instructor_view = board_of(w)
    assert (instructor_view.rows[0]["name"], instructor_view.rows[0]["pseudonym"]) == ("owner", first)
