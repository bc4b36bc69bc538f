"""Helpers of the CSV exports (grades, leaderboards)."""
from __future__ import annotations


def csv_cell(value) -> str:
    """Spreadsheet formula injection: a text cell that starts with = + - @ (or a tab or CR) is read as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


GRADEBOOK_FORMATS = ("canvas", "moodle")


def _points(value) -> str:
    return "" if value is None else f"{value:.2f}"


def gradebook_csv_rows(book, *, flavour: str, course_title: str = "") -> list[list[str]]:
    """The gradebook (courses.gradebook.Gradebook) as CSV rows another gradebook imports.

    canvas: Canvas's own export layout, which its Gradebook import reads back: Student ("Last, First"),
      ID, SIS User ID, SIS Login ID (our username: Canvas matches rows on it when ID is empty), Section,
      then one column per exercise ("Title (slug)"; a new name makes a new assignment), and a
      "Points Possible" row under the header.
    moodle: what Moodle's "Import grades: CSV file" maps: Username, Email address, First name, Last name,
      then one column per exercise, mapped to grade items on import (identify users by username or
      e-mail).
    An exercise without a grade is an empty cell (both leave that grade alone); no total column, since
    both compute their own. Every text cell goes through csv_cell (no spreadsheet formulas)."""
    if flavour not in GRADEBOOK_FORMATS:
        raise ValueError(f"unknown gradebook format {flavour!r}")
    titles = [csv_cell(f"{c.title} ({c.ce.exercise.slug})") for c in book.columns]
    if flavour == "canvas":
        out = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles],
               ["Points Possible", "", "", "", "", *[_points(c.points) for c in book.columns]]]
        for row in book.rows:
            user = row.user
            name = f"{user.last_name}, {user.first_name}" if user.last_name else (user.first_name or user.username)
            out.append([csv_cell(name), "", "", csv_cell(user.username), csv_cell(course_title),
                        *[_points(c.points) for c in row.cells]])
        return out
    out = [["Username", "Email address", "First name", "Last name", *titles]]
    for row in book.rows:
        user = row.user
        out.append([csv_cell(user.username), csv_cell(user.email), csv_cell(user.first_name),
                    csv_cell(user.last_name), *[_points(c.points) for c in row.cells]])
    return out
