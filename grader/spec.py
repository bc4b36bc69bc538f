"""Exercise specifications: exercise.toml, checks.py and the known-wrong cases."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .checks import Check

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = Path(os.environ.get("DGM_EXERCISES_DIR", REPO_ROOT / "exercises"))
VISIBILITIES = ("visible", "hidden", "after_due_date")
DELEGATION_CHECK = "not_delegated"
DELEGATION_TITLE = "Implemented yourself, not delegated to the library"


class SpecError(ValueError):
    """An exercise folder that is not a valid exercise."""


@dataclass(frozen=True)
class Limits:
    wall_time_s: float = 60.0
    probe_time_s: float = 10.0
    memory_mb: int = 1024
    cpus: float = 1.0
    pids: int = 64
    scratch_mb: int = 64
    output_mb: int = 16
    gpu: bool = False


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    visibility: str
    check: Check | None  # None for the built-in delegation check


@dataclass(frozen=True)
class WrongCase:
    name: str
    path: Path
    fails: tuple[str, ...]
    why: str


@dataclass
class Exercise:
    slug: str
    title: str
    path: Path
    module: str
    functions: tuple[str, ...]  # the names the contract asks the student's module to define
    queue: str
    limits: Limits
    checks: list[CheckSpec]
    delegation: dict = field(default_factory=dict)
    version: str = ""

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def solution_path(self) -> Path:
        return self.path / "solution.py"

    def right_cases(self) -> list[Path]:
        """Correct solutions in other styles: each must get full marks."""
        return sorted((self.path / "right").glob("*.py"))

    def wrong_cases(self) -> list[WrongCase]:
        cases_file = self.path / "wrong" / "cases.toml"
        if not cases_file.exists():
            return []
        names = {c.name for c in self.checks}
        cases = []
        for name, entry in tomllib.loads(cases_file.read_text()).items():
            unknown = set(entry["fails"]) - names
            if unknown:
                raise SpecError(f"{self.slug}: wrong case {name} names unknown checks {sorted(unknown)}")
            cases.append(WrongCase(name, self.path / "wrong" / entry["file"], tuple(entry["fails"]),
                                   entry.get("why", "")))
        return cases


def _load_checks_module(path: Path, slug: str):
    spec = importlib.util.spec_from_file_location(f"exercise_checks_{slug.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _version(path: Path) -> str:
    """Content hash of what decides a grade: the spec, the checks and the reference models."""
    digest = hashlib.sha256()
    files = [path / "exercise.toml", path / "checks.py", *sorted((REPO_ROOT / "reference_models").glob("*.py"))]
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:12]


def load_exercise(slug: str, root: Path | None = None) -> Exercise:
    path = (root or EXERCISES_DIR) / slug
    toml_path = path / "exercise.toml"
    if not toml_path.is_file():
        raise SpecError(f"unknown exercise {slug!r} (no {toml_path})")
    data = tomllib.loads(toml_path.read_text())
    limits = Limits(**data.get("limits", {}))
    module = _load_checks_module(path / "checks.py", slug)
    by_name = {c.name: c for c in module.CHECKS}
    checks = []
    for name, entry in data.get("checks", {}).items():
        visibility = entry.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise SpecError(f"{slug}: check {name} has visibility {visibility!r}")
        if name != DELEGATION_CHECK and name not in by_name:
            raise SpecError(f"{slug}: exercise.toml names check {name!r} that checks.py does not define")
        checks.append(CheckSpec(name, float(entry["points"]), visibility, by_name.get(name)))
    missing = set(by_name) - {c.name for c in checks}
    if missing:
        raise SpecError(f"{slug}: checks {sorted(missing)} have no points in exercise.toml")
    return Exercise(slug=slug, title=data["title"], path=path, module=data.get("module", "solution"),
                    functions=tuple(data["functions"]),
                    queue=data.get("queue", "cpu"), limits=limits, checks=checks,
                    delegation=data.get("delegation", {}), version=_version(path))


def list_exercises(root: Path | None = None) -> list[str]:
    base = root or EXERCISES_DIR
    return sorted(p.name for p in base.iterdir() if (p / "exercise.toml").is_file())
