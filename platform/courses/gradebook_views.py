"""The gradebook page and its Canvas / Moodle CSV exports (course staff: courses/permissions.py)."""
from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from .exports import GRADEBOOK_FORMATS, gradebook_csv_rows
from .gradebook import SORTS, gradebook, gradebook_view
from .permissions import GRADE, course_get_for_staff


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def gradebook_page(request, slug):
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=GRADE)
    book = gradebook(course=course)
    sort = request.GET.get("sort", "username")
    if sort not in SORTS and not (sort.startswith("ex") and sort[2:].isdigit()):
        sort = "username"
    descending = request.GET.get("order") == "desc"
    missing = _int_or_none(request.GET.get("missing"))
    q = request.GET.get("q", "")[:100]
    rows = gradebook_view(book, q=q, sort=sort, descending=descending, missing=missing)
    headers = [{"key": "username", "label": "Student"}, {"key": "name", "label": "Name"},
               *[{"key": f"ex{i}", "label": c.title, "points": c.points, "column": c}
                 for i, c in enumerate(book.columns)],
               {"key": "total", "label": "Total", "points": book.total_points}]
    for h in headers:  # a second click on the sorted column reverses it
        h["order"] = "asc" if h["key"] != sort or descending else "desc"
        h["sorted"] = ("desc" if descending else "asc") if h["key"] == sort else ""
    return render(request, "instructor/gradebook.html", {
        "course": course, "book": book, "rows": rows, "headers": headers, "q": q, "sort": sort,
        "descending": descending, "missing": missing, "formats": GRADEBOOK_FORMATS,
        "columns": list(enumerate(book.columns))})


@login_required
def gradebook_csv(request, slug, flavour):
    course, _ = course_get_for_staff(user=request.user, slug=slug, level=GRADE)
    if flavour not in GRADEBOOK_FORMATS:
        raise Http404("No such format")
    rows = gradebook_csv_rows(gradebook(course=course), flavour=flavour, course_title=course.title)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-gradebook-{flavour}.csv"'
    csv.writer(response).writerows(rows)
    return response
