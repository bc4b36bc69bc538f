from django.contrib import admin

from .models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "course_exercise", "status", "score", "max_score", "created_at", "worker")
    list_filter = ("status",)
    exclude = ("data",)
