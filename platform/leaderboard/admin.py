from django.contrib import admin

from .models import Baseline, LeaderboardEntry


@admin.register(LeaderboardEntry)
class LeaderboardEntryAdmin(admin.ModelAdmin):
    list_display = ("submission", "user", "course_exercise", "profile", "fid", "flagged", "chosen", "disqualified_at")
    list_filter = ("profile", "flagged")


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    list_display = ("exercise_version", "profile", "status", "fid", "computed_at")
    list_filter = ("status", "profile")
