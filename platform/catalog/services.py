"""Writes for exercises: sync from the `exercises/` folder, per-course settings."""
from __future__ import annotations

from dataclasses import dataclass

import nbformat
from django.core.exceptions import ValidationError
from django.db import transaction

from grader.bundle import build_bundle
from grader.notebook import build_notebook
from grader.spec import DELEGATION_TITLE, list_exercises, load_exercise

from .models import CourseExercise, Exercise, ExerciseBundle, ExerciseVersion


@dataclass
class SyncReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _version_fields(spec) -> dict:
    notebook = nbformat.writes(build_notebook(spec))
    return dict(
        title=spec.title,
        statement_md=(spec.path / "statement.md").read_text(),
        starter_py=spec.starter_source(),
        starter_ipynb=notebook if notebook.endswith("\n") else notebook + "\n",
        max_score=spec.max_score,
        checks=[{"name": c.name, "points": c.points, "visibility": c.visibility,
                 "title": c.check.title if c.check else DELEGATION_TITLE}
                for c in spec.checks],
        limits={k: getattr(spec.limits, k) for k in spec.limits.__dataclass_fields__},
        training=_training_fields(spec),
    )


def _training_fields(spec) -> dict:
    """A training exercise's profiles (what the leaderboard and the submission page need); {} otherwise."""
    if spec.training is None:
        return {}
    return {"dataset": spec.training.dataset, "metric": spec.training.metric,
            "profiles": {
        name: {"steps": p.steps, "batch_size": p.batch_size, "train_time_s": p.train_time_s,
               "sample_time_s": p.sample_time_s, "n_samples": p.n_samples, "device": p.device}
        for name, p in spec.training.profiles.items()}}


def exercise_bundle_store(*, spec) -> ExerciseBundle:
    """The version's files as a content-addressed bundle (grader.bundle): stored once per content."""
    bundle = build_bundle(spec)
    stored, _ = ExerciseBundle.objects.get_or_create(digest=bundle.digest, defaults={
        "data": bundle.data, "files": bundle.files, "size": bundle.size})
    return stored


@transaction.atomic
def exercise_sync(*, slug: str, root=None) -> str:
    """Brings one exercise up to date with its folder (under `root`, default the repository's
    exercises/); returns created/updated/unchanged.

    Idempotent: the grader's content hash names the version, so an unchanged
    exercise creates nothing, and a changed one gets a new version (the old one
    stays, for the submissions graded against it). Each version stores its bundle,
    from which workers grade it."""
    spec = load_exercise(slug, root)
    exercise, created = Exercise.objects.select_for_update().get_or_create(slug=slug)
    version = ExerciseVersion.objects.filter(exercise=exercise, version=spec.version).first()
    if version is None:
        version = ExerciseVersion.objects.create(exercise=exercise, version=spec.version,
                                                 bundle=exercise_bundle_store(spec=spec), **_version_fields(spec))
    elif version.bundle_id is None:  # synced before bundles were stored: the folder still has its content
        version.bundle = exercise_bundle_store(spec=spec)
        version.save(update_fields=["bundle"])
    if exercise.current_version_id == version.id:
        return "unchanged"
    exercise.current_version = version
    exercise.save(update_fields=["current_version"])
    return "created" if created else "updated"


def exercise_sync_all(*, slugs: list[str] | None = None) -> SyncReport:
    report = SyncReport([], [], [])
    for slug in slugs or list_exercises():
        getattr(report, exercise_sync(slug=slug)).append(slug)
    return report


def course_exercise_create(*, course, exercise: Exercise, points: float = 10.0, deadline=None,
                           late_deadline=None, late_penalty: float = 0.0, max_submissions: int | None = None,
                           position: int | None = None) -> CourseExercise:
    if exercise.current_version_id is None:
        raise ValidationError(f"exercise {exercise.slug} has no synced version")
    if position is None:
        position = CourseExercise.objects.filter(course=course).count()
    course_exercise = CourseExercise(course=course, exercise=exercise, points=points, deadline=deadline,
                                     late_deadline=late_deadline, late_penalty=late_penalty,
                                     max_submissions=max_submissions, position=position)
    course_exercise.full_clean()
    if late_deadline and deadline and late_deadline < deadline:
        raise ValidationError("the late deadline is before the deadline")
    course_exercise.save()
    return course_exercise


VISIBILITIES = ("visible", "after_due_date", "hidden")


def course_exercise_update_settings(*, course_exercise: CourseExercise, deadline=None, late_deadline=None,
                                    late_penalty: float = 0.0, late_penalty_per_day: float = 0.0,
                                    max_submissions: int | None = None, max_submissions_per_day: int | None = None,
                                    points: float | None = None, published: bool | None = None,
                                    check_visibility: dict[str, str] | None = None,
                                    leaderboard_hidden_until_deadline: bool | None = None) -> CourseExercise:
    """An instructor's per-course settings: deadline, late policy, submission limits, check visibility,
    and for a training exercise whether students see the leaderboard only after the deadline.

    Nothing is saved unless every value is valid. Changing the visibility of a check
    recomputes the stored visible score of the exercise's submissions."""
    from submissions.services import submission_recompute_visible_scores

    errors: dict[str, list[str]] = {}
    if late_deadline and not deadline:
        errors.setdefault("late_deadline", []).append("Set a deadline before a late cutoff.")
    if late_deadline and deadline and late_deadline < deadline:
        errors.setdefault("late_deadline", []).append("The late cutoff is before the deadline.")
    for name, value in (("late_penalty", late_penalty), ("late_penalty_per_day", late_penalty_per_day)):
        if not 0 <= value <= 1:
            errors.setdefault(name, []).append("A penalty is a fraction between 0 and 1.")
    for name, value in (("max_submissions", max_submissions), ("max_submissions_per_day", max_submissions_per_day)):
        if value is not None and value < 1:
            errors.setdefault(name, []).append("A limit is at least 1 (leave it empty for no limit).")
    if points is not None and points <= 0:
        errors.setdefault("points", []).append("Points must be positive.")
    version = course_exercise.exercise.current_version
    known = {c["name"]: c["visibility"] for c in (version.checks if version else [])}
    overrides = {}
    for name, visibility in (check_visibility or {}).items():
        if name not in known:
            errors.setdefault("check_visibility", []).append(f"No check named {name!r} in this exercise.")
        elif visibility not in VISIBILITIES:
            errors.setdefault("check_visibility", []).append(f"{visibility!r} is not a visibility.")
        elif visibility != known[name]:
            overrides[name] = visibility  # only what differs from the exercise's own setting
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ce = CourseExercise.objects.select_for_update().get(pk=course_exercise.pk)
        visibility_changed = ce.check_visibility != overrides
        ce.deadline, ce.late_deadline = deadline, late_deadline
        ce.late_penalty, ce.late_penalty_per_day = late_penalty, late_penalty_per_day
        ce.max_submissions, ce.max_submissions_per_day = max_submissions, max_submissions_per_day
        ce.check_visibility = overrides
        if points is not None:
            ce.points = points
        if published is not None:
            ce.published = published
        if leaderboard_hidden_until_deadline is not None:
            ce.leaderboard_hidden_until_deadline = leaderboard_hidden_until_deadline
        ce.full_clean()
        ce.save()
        if visibility_changed:
            submission_recompute_visible_scores(course_exercise=ce)
    return ce
