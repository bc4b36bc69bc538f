"""The status page: staff see the whole platform; a course's instructors see its jobs (and the
workers and queues they share with other courses, counted but not described). Everyone else: 404."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render

from courses.models import Course
from courses.permissions import can_grade

from .selectors import status_overview


def _render(request, overview: dict, course=None):
    if request.GET.get("format") == "json":
        return JsonResponse(overview)
    return render(request, "workers/status.html", {"status": overview, "course": course})


@login_required
def platform_status(request):
    if not request.user.is_staff:
        raise Http404("No such page")
    return _render(request, status_overview())


@login_required
def course_status(request, slug):
    course = get_object_or_404(Course, slug=slug)
    if not can_grade(user=request.user, course=course):  # staff, the course's instructors and TAs
        raise Http404("No such page")
    return _render(request, status_overview(course=None if request.user.is_staff else course), course)
