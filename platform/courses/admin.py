from django.contrib import admin

from .models import Course, Enrollment, Extension


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "created_at")
    inlines = [EnrollmentInline]


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ("user", "course_exercise", "deadline", "extra_attempts", "granted_by", "updated_at")
    raw_id_fields = ("user", "granted_by", "course_exercise")
