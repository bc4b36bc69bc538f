from django.conf import settings
from django.db import models

from catalog.models import CourseExercise, ExerciseVersion
from submissions.models import Submission


class LeaderboardEntry(models.Model):
    """The leaderboard numbers of one graded submission of a training exercise, copied from its result's
    `training` block when the grading finishes (a regrade replaces them). The board shows one entry per
    student: the one they chose, else their best."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="leaderboard_entry")
    course_exercise = models.ForeignKey(CourseExercise, on_delete=models.CASCADE, related_name="leaderboard_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leaderboard_entries")
    profile = models.CharField(max_length=32)  # the training profile it was graded under; boards compare one
    fid = models.FloatField()
    fid_label = models.CharField(max_length=100)  # e.g. "FID (Fashion-MNIST features)", never plain "FID"
    kid = models.FloatField(null=True, blank=True)
    kid_std = models.FloatField(null=True, blank=True)
    fid_low = models.FloatField(null=True, blank=True)  # 95 % bootstrap interval over the samples
    fid_high = models.FloatField(null=True, blank=True)
    precision = models.FloatField(null=True, blank=True)
    recall = models.FloatField(null=True, blank=True)
    n_samples = models.PositiveIntegerField()
    steps = models.PositiveIntegerField(null=True, blank=True)
    device = models.CharField(max_length=16, blank=True, default="")
    train_seconds = models.FloatField(null=True, blank=True)
    sample_seconds = models.FloatField(null=True, blank=True)
    submitted_at = models.DateTimeField()  # the submission's time: ties on FID go to the earlier one
    memorisation_share = models.FloatField(null=True, blank=True)
    flagged = models.BooleanField(default=False)  # memorises training images: kept off the board unless cleared
    review = models.CharField(max_length=10, blank=True, default="",
                              choices=[("", "not reviewed"), ("confirmed", "confirmed"), ("cleared", "cleared")])
    review_reason = models.TextField(blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # The private board (after the reveal): this entry re-sampled with a new seed, scored on the held-back part.
    private_status = models.CharField(max_length=8, blank=True, default="",
                                      choices=[("", "none"), ("queued", "queued"), ("running", "running"),
                                               ("done", "done"), ("failed", "failed")])
    private_fid = models.FloatField(null=True, blank=True)
    private_fid_low = models.FloatField(null=True, blank=True)
    private_fid_high = models.FloatField(null=True, blank=True)
    private_kid = models.FloatField(null=True, blank=True)
    private_kid_std = models.FloatField(null=True, blank=True)
    private_flagged = models.BooleanField(default=False)
    private_error = models.TextField(blank=True, default="")
    private_claimed_at = models.DateTimeField(null=True, blank=True)
    chosen = models.BooleanField(default=False)  # the student's pick for the board
    disqualified_reason = models.TextField(blank=True, default="")
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["course_exercise", "profile"])]
        constraints = [models.UniqueConstraint(fields=["course_exercise", "user"], condition=models.Q(chosen=True),
                                               name="one_chosen_entry_per_student")]

    def __str__(self) -> str:
        return f"{self.fid_label} {self.fid:.2f} for #{self.submission_id}"

    @property
    def is_disqualified(self) -> bool:
        return self.disqualified_at is not None

    @property
    def is_off_for_memorising(self) -> bool:
        return self.flagged and self.review != "cleared"

    @property
    def is_eligible(self) -> bool:
        return not self.is_off_for_memorising and not self.is_disqualified


class EntryCheckpoint(models.Model):
    """The checkpoint a graded entry's train() returned (validated safetensors, at most the exercise's cap):
    the private board samples it again. In the database, so that every worker host can read it."""

    entry = models.OneToOneField(LeaderboardEntry, on_delete=models.CASCADE, related_name="checkpoint")
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    stored_at = models.DateTimeField(auto_now=True)


class BoardReveal(models.Model):
    """The instructor's reveal of a course exercise's private board. `seed` is secret: it exists only from
    the reveal on, and no page or export shows it; each entry samples with a seed derived from it."""

    course_exercise = models.OneToOneField(CourseExercise, on_delete=models.CASCADE, related_name="board_reveal")
    seed = models.BigIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)  # every entry scored: students see the board

    def __str__(self) -> str:
        return f"reveal of {self.course_exercise}"


class Baseline(models.Model):
    """The reference solution's numbers for one (exercise version, training profile): a row on the board.

    Computed by a Celery task on the exercise's queue; the row exists from the request on, so that a
    baseline is computed once (its task claims it with a conditional UPDATE)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    exercise_version = models.ForeignKey(ExerciseVersion, on_delete=models.CASCADE, related_name="baselines")
    profile = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    label = models.CharField(max_length=100, default="Reference solution")
    fid = models.FloatField(null=True, blank=True)
    fid_label = models.CharField(max_length=100, blank=True, default="")
    kid = models.FloatField(null=True, blank=True)
    kid_std = models.FloatField(null=True, blank=True)
    fid_low = models.FloatField(null=True, blank=True)
    fid_high = models.FloatField(null=True, blank=True)
    precision = models.FloatField(null=True, blank=True)
    recall = models.FloatField(null=True, blank=True)
    n_samples = models.PositiveIntegerField(null=True, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True)
    device = models.CharField(max_length=16, blank=True, default="")
    train_seconds = models.FloatField(null=True, blank=True)
    sample_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)  # last (re)queued: the order in its queue
    claimed_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")  # host:pid of the claiming worker process
    worker_node = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exercise_version", "profile"],
                                               name="one_baseline_per_version_and_profile")]

    def __str__(self) -> str:
        return f"baseline {self.exercise_version} / {self.profile} ({self.status})"
