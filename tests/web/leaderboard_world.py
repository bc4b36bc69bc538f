"""Shared by the leaderboard tests: a training exercise in the `world` course and graded submissions
with synthetic results of the agreed shape (/tmp/training-interface.md §4), stored through the
normal claim -> finish path so that the leaderboard hook runs as it does for a real grading."""
from __future__ import annotations

import base64
import copy
import struct
import zlib

from django.utils import timezone

from accounts.services import user_create
from catalog.models import Exercise, ExerciseVersion
from catalog.services import course_exercise_create
from courses.models import Enrollment
from courses.services import enrollment_create
from submissions.models import Submission
from submissions.services import submission_claim, submission_create, submission_finish

from .conftest import SOLUTION

FID_LABEL = "FID (Fashion-MNIST features)"
PROFILES = {"cpu": {"steps": 2000, "batch_size": 64, "train_time_s": 600, "sample_time_s": 120, "n_samples": 1000,
                    "device": "cpu"},
            "tiny": {"steps": 60, "batch_size": 32, "train_time_s": 120, "sample_time_s": 90, "n_samples": 200,
                     "device": "cpu"}}


def tiny_png() -> bytes:
    """A valid 2x2 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([0, 255]) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def training_result(fid, *, kid=0.05, kid_std=0.01, profile="cpu", flagged=False, share=0.0, n=1000,
                    status="graded", leaderboard=True, interval=None, fidelity=None, memorisation=None) -> dict:
    training = {"profile": profile, "device": "cpu", "steps": 2000, "steps_done": 1800, "batch_size": 64,
                "train_seconds": 412.5, "sample_seconds": 30.2, "n_samples": n, "checkpoint_bytes": 123456,
                "fid": fid, "fid_label": FID_LABEL, "kid": kid, "kid_std": kid_std,
                "memorisation": {"share": share, "flagged": flagged, "allowed_share": 0.05,
                                 "thresholds": {"pixel": 1.43, "centred": 0.093}},
                "loss": {"step": [0, 10, 20, 30], "loss": [1.2, 0.9, 0.7, 0.6]},
                "sample_grid_png": base64.b64encode(tiny_png()).decode()}
    if interval is not None:
        training["fid_interval"] = list(interval)
    if fidelity is not None:
        training["fidelity"] = {"k": 5, **fidelity}
    if memorisation is not None:
        training["memorisation"].update(memorisation)
    return {"status": status, "score": 4.0, "max_score": 4.0, "execution_time": 450.0, "output": "",
            "tests": [{"name": "trains", "title": "Training finishes", "score": 2.0, "max_score": 2.0,
                       "status": "passed", "output": "", "visibility": "visible"},
                      {"name": "samples_valid", "title": "Samples are images", "score": 2.0, "max_score": 2.0,
                       "status": "passed", "output": "", "visibility": "visible"}],
            "leaderboard": [{"name": FID_LABEL, "value": fid, "order": "asc"},
                            {"name": "KID", "value": kid, "order": "asc"}] if leaderboard else [],
            "training": training, "provenance": {"profile": profile, "seed": 1}}


def finish(submission: Submission, result: dict, checkpoint: bytes | None = None) -> None:
    token = submission_claim(submission_id=submission.pk, worker="test:1")
    assert token and submission_finish(submission_id=submission.pk, token=token, result=result, checkpoint=checkpoint)


def graded(world, user, fid, *, created_at=None, checkpoint=None, **result_kwargs) -> Submission:
    """A submission of the training exercise, graded with a synthetic result (and a stored checkpoint)."""
    sub = submission_create(user=user, course_exercise=world.train_ce, filename="solution.py", data=SOLUTION)
    if created_at is not None:
        Submission.objects.filter(pk=sub.pk).update(created_at=created_at)
    finish(sub, training_result(fid, **result_kwargs), checkpoint=checkpoint)
    sub.refresh_from_db()
    return sub


def add_training_exercise(world):
    """`world` plus a training exercise (profiles cpu and tiny) in its course and a third student
    (the `board_world` fixture)."""
    exercise = Exercise.objects.create(slug="toy-train")
    version = ExerciseVersion.objects.create(
        exercise=exercise, version="toyversion01", title="Train a toy model", statement_md="Train it.",
        starter_py="", starter_ipynb="{}", max_score=4.0,
        checks=[{"name": "trains", "title": "Training finishes", "points": 2.0, "visibility": "visible"},
                {"name": "samples_valid", "title": "Samples are images", "points": 2.0, "visibility": "visible"}],
        training={"dataset": "fashion-mnist", "profiles": copy.deepcopy(PROFILES)})
    exercise.current_version = version
    exercise.save(update_fields=["current_version"])
    world.train_exercise, world.train_version = exercise, version
    world.train_ce = course_exercise_create(course=world.course, exercise=exercise, points=10)
    world.third = user_create(username="third", password="correct horse battery")
    enrollment_create(user=world.third, course=world.course, role=Enrollment.Role.STUDENT)
    world.now = timezone.now()
    return world
