"""Dates as students read them without thinking: the year, the time zone, and how far away."""
from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


def relative(moment, now) -> str:
    """"in 3 days", "in 5 hours", "2 days ago": the largest whole unit, never "in 0 days"."""
    seconds = (moment - now).total_seconds()
    ahead, seconds = seconds >= 0, abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if ahead else f"{text} ago"
    return "in less than a minute" if ahead else "just now"


@register.simple_tag
def when(moment, now=None):
    """<time> with the date, year, time and zone of the site, then (in 3 days); "none" for no date."""
    if moment is None:
        return "none"
    now = now or timezone.now()
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time> <span class="relative">({})</span>', moment.isoformat(),
                       date_format(local, "D j M Y, H:i T"), relative(moment, now))
