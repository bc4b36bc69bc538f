import secrets

from django.conf import settings
from django.db import models


def new_invite_code() -> str:
    return secrets.token_urlsafe(9)


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    invite_code = models.CharField(max_length=32, unique=True, default=new_invite_code)
    # Leaderboards show students each other under a stable pseudonym instead of their username.
    leaderboard_pseudonyms = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student"
        # A teaching assistant sees and grades the course's work (dashboards, submissions, gradebook,
        # similarity, regrades) but changes no settings, roles or deadlines: see courses/permissions.py.
        TA = "ta", "Teaching assistant"
        INSTRUCTOR = "instructor"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="one_enrollment_per_course")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.role})"


class Extension(models.Model):
    """One student's own deadline and extra attempts for one course exercise, with the instructor's reason
    (the student sees it). Applied through courses/deadlines.py, the one place that says what a student's
    deadline, late cutoff and attempt limit are."""

    course_exercise = models.ForeignKey("catalog.CourseExercise", on_delete=models.CASCADE, related_name="extensions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions")
    deadline = models.DateTimeField(null=True, blank=True)  # None: the exercise's own deadline
    extra_attempts = models.PositiveIntegerField(default=0)  # on top of max_submissions (not the per-day limit)
    reason = models.TextField(max_length=2000)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_exercise", "user"],
                                               name="one_extension_per_student_and_exercise")]

    def __str__(self) -> str:
        return f"extension for {self.user} on {self.course_exercise}"
