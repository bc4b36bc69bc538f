"""The similarity report of an exercise and one pair side by side (course staff: courses/permissions.py)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from catalog.models import CourseExercise
from submissions.models import Submission

from .permissions import GRADE, course_get_for_staff
from .similarity import MAX_STUDENTS, NOISE, similarity_pair_detail, similarity_pairs


def _course_exercise(user, slug, exercise_slug) -> CourseExercise:
    course, _ = course_get_for_staff(user=user, slug=slug, level=GRADE)
    return get_object_or_404(CourseExercise.objects.select_related("course", "exercise__current_version"),
                             course=course, exercise__slug=exercise_slug)


@login_required
def similarity_report(request, slug, exercise_slug):
    ce = _course_exercise(request.user, slug, exercise_slug)
    pairs, students = similarity_pairs(course_exercise=ce)
    return render(request, "instructor/similarity.html", {
        "ce": ce, "course": ce.course, "version": ce.exercise.current_version, "pairs": pairs,
        "students": students, "noise": NOISE, "max_students": MAX_STUDENTS})


@login_required
def similarity_pair(request, slug, exercise_slug, a_id, b_id):
    ce = _course_exercise(request.user, slug, exercise_slug)
    subs = {s.pk: s for s in Submission.objects.filter(course_exercise=ce, pk__in=[a_id, b_id])
            .select_related("user", "exercise_version")}
    if a_id == b_id or len(subs) != 2:
        raise Http404("No such pair")
    a, b = subs[a_id], subs[b_id]
    return render(request, "instructor/similarity_pair.html", {
        "ce": ce, "course": ce.course, "version": ce.exercise.current_version, "a": a, "b": b,
        **similarity_pair_detail(course_exercise=ce, a=a, b=b)})
