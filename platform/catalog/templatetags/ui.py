"""Template helpers for the student pages: which npm-installed assets (KaTeX, highlight.js) are served."""
from __future__ import annotations

from functools import lru_cache

from django import template
from django.contrib.staticfiles import finders

register = template.Library()


@lru_cache(maxsize=1)
def _vendor() -> dict[str, bool]:
    return {"katex": bool(finders.find("vendor/katex/katex.min.js")),
            "hljs": bool(finders.find("vendor/hljs/highlight.min.js"))}


@register.simple_tag
def vendor_assets() -> dict[str, bool]:
    """{"katex": bool, "hljs": bool}: whether `make assets` installed them (the pages work without)."""
    return _vendor()


@register.filter
def percent(fraction) -> str:
    """0.0125 -> "1.2%" (a share shown to people); "—" when there is none."""
    if fraction is None or fraction == "":
        return "—"
    return f"{100 * float(fraction):.1f}%"


@register.filter
def can_import_exercises(user) -> bool:
    """Whether the nav shows *Exercise imports* (staff, and instructors of a course)."""
    from catalog.imports import can_import

    return can_import(user)
