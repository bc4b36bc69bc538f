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
        CANCELLED = "cancelled"  # by its owner (or an instructor) while queued or running; never charged

    PENDING = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.GRADED, Status.ERROR, Status.TIMEOUT, Status.MEMORY_LIMIT)
    FREE = (Status.INFRASTRUCTURE_ERROR, Status.CANCELLED)  # outcomes that cost no attempt

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    course_exercise = models.ForeignKey(CourseExercise, on_delete=models.CASCADE, related_name="submissions")
    exercise_version = models.ForeignKey(ExerciseVersion, on_delete=models.PROTECT, related_name="submissions")
    filename = models.CharField(max_length=255)
    data = models.BinaryField()  # the file as uploaded (<= SUBMISSION_MAX_BYTES)
    seed = models.BigIntegerField()
    # A training exercise's profile (budgets, N), chosen by the platform when the job is queued and sent
    # to the worker with it; "" for function exercises. The queue follows from the version and profile.
    training_profile = models.CharField(max_length=32, blank=True, default="")
    queue = models.CharField(max_length=16, default="quick", db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)  # last (re)queued: the order in its queue
    is_late = models.BooleanField(default=False)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # The claim: a conditional UPDATE queued -> running sets these; only the holder of the token may finish.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")  # host:pid of the grading process
    worker_node = models.CharField(max_length=200, blank=True, default="")  # its Celery node, e.g. quick@host
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the grading process is alive (workers.monitor)
    progress = models.JSONField(null=True, blank=True)  # a running training job's live progress (display only)
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
        indexes = [models.Index(fields=["user", "course_exercise"]), models.Index(fields=["status", "claimed_at"]),
                   models.Index(fields=["queue", "status", "queued_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING
