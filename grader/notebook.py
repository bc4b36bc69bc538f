"""The starter notebook is generated from starter.py, so the two never drift.

Cells: the statement's title and a pointer to it, then the starter split at
top-level definitions, and a last cell showing how to submit from the notebook.
"""
from __future__ import annotations

import ast
import re

import nbformat

from .spec import Exercise


def starter_cells(source: str) -> list[str]:
    """Split the starter at each top-level statement that starts a def/class/main block."""
    tree = ast.parse(source)
    lines = source.splitlines()
    starts = [0] + [
        (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        for node in tree.body[1:] if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.If))
    ]
    chunks = ["\n".join(lines[a:b]).strip() for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]
    return [c for c in chunks if c]


def build_notebook(exercise: Exercise) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {exercise.title}\n\nRead the statement (`statement.md`) first. Fill in the functions below; "
        "only code cells are graded, and lines starting with `!` or `%` are ignored."))
    source = exercise.starter_source()
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in starter_cells(source))
    return nb


def write_notebook(exercise: Exercise) -> str:
    path = exercise.path / "starter.ipynb"
    text = nbformat.writes(build_notebook(exercise))
    path.write_text(text if text.endswith("\n") else text + "\n")
    return str(path)


# How grader.materialize marks the start of each code cell in a flattened notebook.
CELL_MARK = re.compile(r"^# --- notebook cell (\d+) ---$")
_TRACEBACK_LINE = re.compile(r'(File "[^"\n]*", )line (\d+)')


def cell_location(source: str, lineno: int) -> tuple[int, int] | None:
    """Where line `lineno` (1-based) of a flattened notebook comes from: (the cell's number counted
    from the top of the notebook, 1-based, markdown cells included; the line in that cell, 1-based).
    None for a line before the first cell. Lines the flattening dropped (`!`/`%` lines, a kept cell
    magic's first line) are not counted: the line is that of the code as graded."""
    lines = source.splitlines()
    for index in range(min(lineno, len(lines)) - 1, -1, -1):
        mark = CELL_MARK.match(lines[index])
        if mark:
            return int(mark.group(1)) + 1, lineno - 1 - index
    return None


def describe_location(source: str, lineno: int) -> str:
    """"cell 3, line 2" for a line of a flattened notebook ("line N" if it is in no cell)."""
    where = cell_location(source, lineno)
    return f"cell {where[0]}, line {where[1]}" if where else f"line {lineno}"


def traceback_in_cells(text: str, source: str) -> str:
    """A traceback of the flattened notebook with each `File "…", line N` naming the cell instead."""
    return _TRACEBACK_LINE.sub(lambda m: m.group(1) + describe_location(source, int(m.group(2))), text)
