"""An exercise's version: the hash of exactly the files its grading depends on.

Those are the exercise's folder, the folders of the exercises it extends, its training program
and support files, the harness (what runs in the sandbox), and the Python modules of `grader/`
and `reference_models/` that its checks import, followed import by import (the check library,
the reference functions a check compares with, the metrics a training exercise is scored by).
An edit elsewhere, e.g. to a reference model no check imports, leaves the version alone, so it
neither re-versions the exercise nor re-queues its baselines.
"""
from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

GRADER_DIR = Path(__file__).resolve().parent
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
_LOCAL = ("grader", "reference_models")


def folder_files(folder: Path) -> list[Path]:
    """The files of an exercise folder, without caches."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(folder).parts))


def _module_file(name: str, repo_root: Path) -> Path | None:
    """The file of module `name` if it is one of ours: grader's from this grader, reference_models'
    from `repo_root` (a materialised bundle carries its own)."""
    top, *rest = name.split(".")
    if top not in _LOCAL:
        return None
    base = (GRADER_DIR if top == "grader" else repo_root / "reference_models").joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _package_of(path: Path, repo_root: Path) -> list[str]:
    for top, base in (("grader", GRADER_DIR), ("reference_models", repo_root / "reference_models")):
        if path.is_relative_to(base.resolve()):
            return [top, *path.relative_to(base.resolve()).parent.parts]
    return []


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth (a lazy import is a dependency too), except those
    under `if TYPE_CHECKING:`, which never run."""
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        pending += list(ast.iter_child_nodes(node))


def _imports(path: Path, repo_root: Path) -> set[Path]:
    """The local modules `path` imports (absolute and relative, a `from pkg import module` too)."""
    names: list[str] = []
    for node in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path, repo_root)
                package = package[:len(package) - node.level + 1] if node.level <= len(package) else []
                module = ".".join(package + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names += [module] + [f"{module}.{a.name}" for a in node.names]
    found = {_module_file(n, repo_root) for n in names if n}
    return {f for f in found if f is not None}


def import_closure(roots: Iterable[Path], repo_root: Path) -> list[Path]:
    """`roots` and every local module they import, transitively."""
    seen: dict[Path, None] = {}
    pending = [p.resolve() for p in roots]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen[path] = None
        if path.suffix == ".py":
            pending += sorted(_imports(path, repo_root) - set(seen))
    return sorted(seen)


def harness_files() -> list[Path]:
    return sorted((GRADER_DIR / "harness").glob("*.py"))


def label(path: Path, exercises_root: Path, repo_root: Path) -> str:
    """A file's name in the hash (and the bundle), the same wherever the tree lies."""
    for prefix, base in (("exercises/", exercises_root), ("grader/", GRADER_DIR), ("", repo_root)):
        if path.is_relative_to(base.resolve()):
            return prefix + path.relative_to(base.resolve()).as_posix()
    return path.name


def version_of(files: Iterable[Path], exercises_root: Path, repo_root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: label(p, exercises_root, repo_root)):
        digest.update(label(path, exercises_root, repo_root).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
