from django.contrib import admin

from .models import CourseExercise, Exercise, ExerciseVersion

admin.site.register(Exercise)
admin.site.register(ExerciseVersion, list_display=("exercise", "version", "title", "bundle", "created_at"))
admin.site.register(CourseExercise, list_display=("course", "exercise", "deadline", "points", "max_submissions"))
