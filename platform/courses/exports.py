"""Helpers of the CSV exports (grades, leaderboards)."""
from __future__ import annotations


def csv_cell(value) -> str:
    """Spreadsheet formula injection: a text cell that starts with = + - @ (or a tab or CR) is read as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
