"""Reads for exercises and their course settings."""
from __future__ import annotations

import bleach
import markdown
from django.http import Http404
from django.utils import timezone

from courses.selectors import enrollment_role

from .models import CourseExercise

ALLOWED_TAGS = sorted(bleach.sanitizer.ALLOWED_TAGS | {
    "p", "pre", "code", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "hr", "br", "span", "div", "sup", "sub", "img", "dl", "dt", "dd"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title"], "code": ["class"],
                      "span": ["class"], "div": ["class"], "th": ["align"], "td": ["align"]}


def markdown_to_safe_html(text: str) -> str:
    """Markdown to HTML, then sanitised: raw HTML in the text cannot inject script.

    `$...$` math is left as text for client-side KaTeX; markdown does not touch `$`."""
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    return bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        protocols=["http", "https", "mailto"], strip=True)


def course_exercise_list(*, course, include_unpublished: bool = False):
    qs = CourseExercise.objects.filter(course=course).select_related("exercise__current_version")
    return qs if include_unpublished else qs.filter(published=True)


def course_exercise_get_for_member(*, user, course_slug: str, exercise_slug: str) -> tuple[CourseExercise, str]:
    """404 unless the user is enrolled in the course and the exercise is visible to them."""
    ce = (CourseExercise.objects.select_related("course", "exercise__current_version")
          .filter(course__slug=course_slug, exercise__slug=exercise_slug).first())
    role = enrollment_role(user=user, course=ce.course) if ce else None
    if ce is None or role is None or (not ce.published and role != "instructor"):
        raise Http404("No such exercise")
    return ce, role


def course_exercise_is_past_due(*, course_exercise: CourseExercise, now=None) -> bool:
    now = now or timezone.now()
    return course_exercise.deadline is not None and now > course_exercise.deadline
