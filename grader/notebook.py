"""The starter notebook is generated from starter.py, so the two never drift.

Cells: the statement's title and a pointer to it, then the starter split at
top-level definitions, and a last cell showing how to submit from the notebook.
"""
from __future__ import annotations

import ast

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
