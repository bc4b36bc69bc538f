"""Reads of a submission's code: its files and notebook cells as text, the previous submission, a diff.

The stored bytes are only decoded and (for notebooks) read as JSON; nothing is imported or run."""
from __future__ import annotations

import difflib
import json

from grader.materialize import SubmissionError, decode_python, materialize
from grader.notebook import traceback_in_cells

from .models import Submission

MAX_DIFF_LINES = 4000


def is_notebook(filename: str) -> bool:
    return filename.lower().endswith(".ipynb")


def _text(data: bytes) -> str:
    try:
        return decode_python(data)
    except SubmissionError:
        return data.decode("utf-8", "replace")


def submission_cells(*, submission: Submission) -> tuple[list[dict], str]:
    """What to show of a submission: [{label, source}] (one for a .py file, one per code cell of a
    notebook) and a note for the reader ("" when there is none)."""
    data = bytes(submission.data)
    if not is_notebook(submission.filename):
        return [{"label": submission.filename, "source": _text(data)}], ""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells")
        if not isinstance(cells, list):
            raise ValueError
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ([{"label": submission.filename, "source": data.decode("utf-8", "replace")}],
                "The notebook could not be read as JSON; this is its text as uploaded.")
    shown = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        shown.append({"label": f"Cell {index + 1}", "source": str(source)})
    note = f"{len(shown)} code cell{'s' if len(shown) != 1 else ''} of {len(cells)} cells (markdown cells not shown)."
    return shown, note


def submission_source(*, submission: Submission) -> str:
    """The code as graded: a .py file's text, a notebook's code cells flattened (grader.materialize)."""
    data = bytes(submission.data)
    try:
        return materialize(submission.filename.lower() if is_notebook(submission.filename) else "x.py", data)
    except SubmissionError:
        return data.decode("utf-8", "replace")


def submission_earlier(*, submission: Submission):
    """The same student's earlier submissions of the same exercise in the same course, newest first."""
    return (Submission.objects.filter(user_id=submission.user_id, course_exercise_id=submission.course_exercise_id,
                                      created_at__lte=submission.created_at, pk__lt=submission.pk)
            .defer("data", "result").order_by("-created_at", "-id"))


def code_diff(*, old: Submission, new: Submission) -> list[dict]:
    """A unified diff of the code as graded: [{kind: hunk/add/del/same/file, text}], at most
    MAX_DIFF_LINES lines. The text is the students' own: templates escape it."""
    lines = difflib.unified_diff(submission_source(submission=old).splitlines(),
                                 submission_source(submission=new).splitlines(),
                                 fromfile=f"#{old.pk} {old.filename}", tofile=f"#{new.pk} {new.filename}",
                                 lineterm="")
    kinds = {"@": "hunk", "+": "add", "-": "del", " ": "same"}
    out = []
    for number, line in enumerate(lines):
        if number >= MAX_DIFF_LINES:
            out.append({"kind": "hunk", "text": f"… the diff goes on; it is cut at {MAX_DIFF_LINES} lines."})
            break
        kind = "file" if number < 2 else kinds.get(line[:1], "same")
        out.append({"kind": kind, "text": line})
    return out


def result_in_cells(*, result: dict, submission: Submission) -> dict:
    """A notebook's result with each traceback naming the cell and the line in it, not a line of the
    flattened module the sandbox ran. The pieces stay untrusted text; only their `line N` changes."""
    if not result or not is_notebook(submission.filename):
        return result
    source = submission_source(submission=submission)

    def mapped(pieces):
        if not isinstance(pieces, dict):
            return pieces
        return {token: {**piece, "text": traceback_in_cells(piece["text"], source)}
                if isinstance(piece, dict) and isinstance(piece.get("text"), str) else piece
                for token, piece in pieces.items()}

    tests = [{**t, "untrusted": mapped(t.get("untrusted"))} if isinstance(t, dict) else t
             for t in result.get("tests", [])]
    return {**result, "untrusted": mapped(result.get("untrusted")), "tests": tests}
