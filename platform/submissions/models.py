from django.conf import settings
from django.db import models

from catalog.models import CourseExercise, ExerciseVersion


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        GRADED = "graded"
        ERROR = "error"
        TIMEOUT = "timeout"
        MEMORY_LIMIT = "memory_limit"
        INFRASTRUCTURE_ERROR = "infrastructure_error"  # gave up after retries; never charged to the student

    PENDING = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.GRADED, Status.ERROR, Status.TIMEOUT, Status.MEMORY_LIMIT)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    course_exercise = models.ForeignKey(CourseExercise, on_delete=models.CASCADE, related_name="submissions")
    exercise_version = models.ForeignKey(ExerciseVersion, on_delete=models.PROTECT, related_name="submissions")
    filename = models.CharField(max_length=255)
    data = models.BinaryField()  # the file as uploaded (<= SUBMISSION_MAX_BYTES)
    seed = models.BigIntegerField()
    is_late = models.BooleanField(default=False)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # The claim: a conditional UPDATE queued -> running sets these; only the holder of the token may finish.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    infra_failures = models.PositiveIntegerField(default=0)
    last_infra_error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    visible_score = models.FloatField(null=True, blank=True)  # from the checks a student sees before the due date
    max_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Earlier results, oldest first, one per regrade: {status, result, score, max_score, visible_score,
    # exercise_version, finished_at, regraded_by, regraded_at}. A regrade never loses a grade.
    history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "course_exercise"]), models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING
