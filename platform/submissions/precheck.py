"""Cheap mistakes caught at upload, before anything is stored or queued: a file that does not parse.

`ast.parse` only reads the text; nothing of the submission is imported or run here."""
from __future__ import annotations

import ast

from grader.notebook import describe_location


def syntax_error_message(*, filename: str, source: str) -> str | None:
    """The student's syntax error with where it is (the line, or the cell and line of a notebook),
    or None if the source parses."""
    notebook = filename.lower().endswith(".ipynb")
    try:
        ast.parse(source, filename=filename)
    except SyntaxError as exc:
        lineno = exc.lineno or 1
        where = describe_location(source, lineno) if notebook else f"line {lineno}"
        code = (exc.text or "").strip("\r\n")
        quoted = f": {code.strip()[:200]}" if code.strip() else ""
        return (f"{filename} does not parse: {exc.msg} at {where}{quoted}. "
                "Nothing was submitted and no attempt was used; fix it and submit again.")
    except (RecursionError, MemoryError):  # the parser's stack: absurdly deep nesting
        return (f"{filename} is nested too deeply to parse. Nothing was submitted and no attempt was used.")
    return None
