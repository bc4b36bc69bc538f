"""Reads for exercises and their course settings."""
from __future__ import annotations

import re
import secrets
from html import escape

import bleach
import markdown
from django.http import Http404
from django.utils import timezone

from courses.selectors import enrollment_role

from .models import CourseExercise, ExerciseVersion

ALLOWED_TAGS = sorted(bleach.sanitizer.ALLOWED_TAGS | {
    "p", "pre", "code", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "hr", "br", "span", "div", "sup", "sub", "img", "dl", "dt", "dd"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title"], "code": ["class"],
                      "span": ["class"], "div": ["class"], "th": ["align"], "td": ["align"]}


# Code (fenced or inline) is skipped; then $$display$$ and $inline$ math (pandoc's rules: no space
# after the opening or before the closing $, no digit right after it; \$ is a literal dollar).
_MATH_OR_CODE = re.compile(
    r"(?P<fence>^[ \t]*(?P<ticks>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=ticks)[ \t]*$)"
    r"|(?P<code>(?P<bt>`+).+?(?P=bt))"
    r"|(?P<display>(?<!\\)\$\$.+?(?<!\\)\$\$)"
    r"|(?P<inline>(?<![\\$])\$(?![\s$])(?:[^$\n]|\n(?!\s*\n))+?(?<![\s\\])\$(?!\d))",
    re.MULTILINE | re.DOTALL)


def _protect_math(text: str) -> tuple[str, dict[str, str]]:
    """Math out of the Markdown's way: Markdown would eat `\\{`, `\\!`, `*` and `_` inside it."""
    stash: dict[str, str] = {}
    nonce = secrets.token_hex(6)

    def replace(m: re.Match) -> str:
        if m.group("fence") or m.group("code"):
            return m.group(0)
        key = f"mathph{nonce}x{len(stash)}x"
        kind = "display" if m.group("display") else "inline"
        stash[key] = f'<span class="math {kind}">{escape(m.group(0))}</span>'
        return key

    return _MATH_OR_CODE.sub(replace, text), stash


def markdown_to_safe_html(text: str, *, math: bool = False) -> str:
    """Markdown to HTML, then sanitised: raw HTML in the text cannot inject script.

    With `math`, `$...$` and `$$...$$` become `<span class="math inline|display">` holding the
    escaped TeX with its delimiters, for client-side KaTeX (readable as TeX without it)."""
    stash: dict[str, str] = {}
    if math:
        text, stash = _protect_math(text or "")
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    html = bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        protocols=["http", "https", "mailto"], strip=True)
    for key, value in stash.items():  # after bleach: the TeX is escaped, the wrapper is ours
        html = html.replace(key, value)
    return html


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


def version_budget_s(*, version: ExerciseVersion, profile: str = "") -> float:
    """How long one job of this version may take by its limits: the sandbox's wall clock for a function
    exercise, training plus sampling at `profile` for a training exercise (the status page flags jobs
    running longer; the submission page shows a training job's elapsed time against it)."""
    if version.is_training:
        chosen = version.training.get("profiles", {}).get(profile, {})
        return float((chosen.get("train_time_s") or 0) + (chosen.get("sample_time_s") or 0))
    return float(version.limits.get("wall_time_s") or 0)
