from django.conf import settings
from django.db import models

from courses.models import Course


class ExerciseBundle(models.Model):
    """The files of an exercise version (grader.bundle), content-addressed: a worker materialises the
    bundle of the version it grades, so it needs no `exercises/` folder of its own."""

    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the bundle's manifest
    data = models.BinaryField()  # the zip
    files = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()  # uncompressed bytes
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bundle {self.digest[:12]} ({self.files} files)"


class Exercise(models.Model):
    """An exercise of `exercises/<slug>/`; its content lives in versions."""

    slug = models.SlugField(unique=True)
    current_version = models.ForeignKey("ExerciseVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class ExerciseVersion(models.Model):
    """One version of an exercise, identified by the grader's content hash (`exercise.version`).

    A grade is a function of (submission, exercise version, seed): every submission
    points at the version it was graded against."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    statement_md = models.TextField()
    starter_py = models.TextField()
    starter_ipynb = models.TextField()
    bundle = models.ForeignKey(ExerciseBundle, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="versions")
    max_score = models.FloatField()
    checks = models.JSONField(default=list)  # [{name, title, points, visibility}]
    limits = models.JSONField(default=dict)
    # A training exercise's profiles, {"profiles": {name: {steps, batch_size, train_time_s, sample_time_s,
    # n_samples, device}}}; {} for the other exercises. Only training exercises have a leaderboard.
    training = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exercise", "version"], name="one_row_per_version")]

    def __str__(self) -> str:
        return f"{self.exercise.slug}@{self.version}"

    @property
    def is_training(self) -> bool:
        return bool(self.training)


class CourseExercise(models.Model):
    """An exercise as set in one course: deadline, points, late policy, submission limit."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="course_exercises")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="course_exercises")
    position = models.PositiveIntegerField(default=0)
    points = models.FloatField(default=10.0)  # the exercise's max_score is scaled to this
    opens_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    late_deadline = models.DateTimeField(null=True, blank=True)  # submissions until then count, with a penalty
    late_penalty = models.FloatField(default=0.0)  # fraction of the points lost when late, 0..1
    late_penalty_per_day = models.FloatField(default=0.0)  # and this fraction more per started day late, 0..1
    max_submissions = models.PositiveIntegerField(null=True, blank=True)  # None: unlimited
    max_submissions_per_day = models.PositiveIntegerField(null=True, blank=True)  # per calendar day; None: unlimited
    # check name -> visible / hidden / after_due_date, overriding the exercise's own visibility in this course
    check_visibility = models.JSONField(default=dict, blank=True)
    published = models.BooleanField(default=True)
    # Training exercises: students see the leaderboard only after the deadline (instructors always do).
    leaderboard_hidden_until_deadline = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "exercise"], name="exercise_once_per_course"),
            models.CheckConstraint(condition=models.Q(late_penalty__gte=0) & models.Q(late_penalty__lte=1),
                                   name="late_penalty_is_a_fraction"),
            models.CheckConstraint(condition=models.Q(late_penalty_per_day__gte=0)
                                   & models.Q(late_penalty_per_day__lte=1),
                                   name="late_penalty_per_day_is_a_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} in {self.course.slug}"


class ExerciseImport(models.Model):
    """An exercise bundle an instructor uploaded (a .zip of one exercise folder): untrusted until
    validated in a sandbox (grader/exercise_import.py) and approved by a person; only then is it
    synced into the catalogue as an Exercise that courses can add."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for validation"
        VALIDATING = "validating", "Validating"
        PASSED = "passed", "Validation passed: waiting for approval"
        FAILED = "failed", "Validation failed"
        APPROVED = "approved", "Approved: in the catalogue"
        REJECTED = "rejected", "Rejected"

    slug = models.SlugField(max_length=50)
    filename = models.CharField(max_length=200)
    data = models.BinaryField()  # the zip as uploaded
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exercise_imports")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    report = models.JSONField(null=True, blank=True)  # grader.exercise_import.ImportReport.to_dict()
    validated_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="exercise_import_decisions")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    exercise = models.ForeignKey(Exercise, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.slug} ({self.status})"
