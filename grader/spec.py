"""Exercise specifications: exercise.toml, checks.py and the known-wrong cases."""
from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .checkbase import Check
from .extends import (
    Core,
    inherited_case,
    joined_source,
    joined_starter,
    merged_delegation,
    merged_functions,
    parse_extends,
)
from .version import GRADER_DIR, folder_files, harness_files, import_closure, version_of

REPO_ROOT = Path(__file__).resolve().parent.parent
# The families whose reference models give an exact bits/dim (or a bound): grader/likelihood.py.
# {family: (reference module, model class, config class)}
LIKELIHOOD_FAMILIES = {"realnvp": ("reference_models.flow", "RealNVP", "RealNVPConfig"),
                       "pixelcnn": ("reference_models.pixelcnn", "PixelCNN", "PixelCNNConfig")}
EXERCISES_DIR = Path(os.environ.get("DGM_EXERCISES_DIR", REPO_ROOT / "exercises"))
VISIBILITIES = ("visible", "hidden", "after_due_date")
DELEGATION_CHECK = "not_delegated"
DELEGATION_TITLE = "Implemented yourself, not delegated to the library"
DEFAULT_PROFILE = "cpu"
GPU_PROFILE = "gpu"  # the one profile that trains on CUDA with a GPU device request


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
class Case:
    """A solution the exercise is proved on: `path` is its file, `parts` the files joined into the
    module graded (more than one for a core's case in an exercise that extends several cores)."""

    name: str
    path: Path
    fails: tuple[str, ...] = ()
    why: str = ""
    parts: tuple[Path, ...] = ()

    def source(self) -> str:
        return joined_source(self.parts or (self.path,))


@dataclass(frozen=True)
class TrainingProfile:
    """One compute budget of a training exercise; the leaderboard compares results of one profile only."""

    name: str
    steps: int
    batch_size: int
    train_time_s: float
    sample_time_s: float
    n_samples: int  # N of FID/KID, fixed per profile since FID is biased in N
    options: dict = field(default_factory=dict)  # merged over [training] sampler into budget.options

    @property
    def device(self) -> str:
        return "cuda" if self.name == GPU_PROFILE else "cpu"


@dataclass(frozen=True)
class LikelihoodSpec:
    """`[training.likelihood]`: the board ranks the test split's bits/dim, computed by the judge with
    reference_models' `family` (grader/likelihood.py) instead of FID of sampled images."""

    family: str  # "realnvp" or "pixelcnn"
    preview: int = 36  # samples the judge draws with the reference model for the result's grid; 0: none


@dataclass(frozen=True)
class RaceSpec:
    """`[training.race]`: nothing is trained. The sampling sandbox runs the student's sampler on the
    fixed weights `weights` (safetensors, pinned by the SHA-256 of its card `<weights>.json`) once per
    entry of the profile's option `rungs` (numbers of DDIM steps, n_samples images each); the judge
    scores each rung's FID and the board ranks the steps needed to reach the option `target_fid`
    (grader/race.py)."""

    weights: str  # repo-relative

    def card(self, repo_root: Path) -> Path:
        return (repo_root / self.weights).with_suffix(".json")


@dataclass(frozen=True)
class TrainingSpec:
    """The `[training]` table: what runs in the training and sampling sandboxes."""

    program: Path | None  # public file defining train()/sample(); None: the student's module is the program
    support: tuple[str, ...]  # repo-relative public files shipped into both sandboxes
    dataset: str
    checkpoint_mb: float
    sampler: dict
    profiles: dict[str, TrainingProfile]
    repo_root: Path = REPO_ROOT  # `support` paths are relative to it (a materialised bundle has its own)
    likelihood: LikelihoodSpec | None = None  # None: an FID board of samples from the sampling sandbox
    race: RaceSpec | None = None  # a sampler race on fixed weights: no training sandbox

    @property
    def metric(self) -> str:
        """What the board ranks: "fid" of sampled images, the judge's "bits_per_dim" of the test split,
        or a race's "steps_to_fid", the DDIM steps that reach the target FID."""
        return "bits_per_dim" if self.likelihood else "steps_to_fid" if self.race else "fid"

    def rungs(self, profile: TrainingProfile) -> list[int]:
        """A race's numbers of steps, in the order the sampling sandbox returns their images."""
        return [int(r) for r in self.options(profile)["rungs"]] if self.race else [0]

    def profile(self, name: str | None = None) -> TrainingProfile:
        """The named profile, else "cpu". The caller names it: the platform stores it with the job."""
        name = name or DEFAULT_PROFILE
        if name not in self.profiles:
            raise SpecError(f"no training profile {name!r}; this exercise has {sorted(self.profiles)}")
        return self.profiles[name]

    def options(self, profile: TrainingProfile) -> dict:
        """`budget.options` of train() and sample(): the sampler table, overridden by the profile's options."""
        return {**self.sampler, **profile.options}

    def program_source(self) -> dict | None:
        return None if self.program is None else {"module": self.program.stem, "source": self.program.read_text()}

    def support_sources(self) -> dict[str, str]:
        return {rel: (self.repo_root / rel).read_text() for rel in self.support}

    def files(self) -> list[Path]:
        race = [self.repo_root / self.race.weights, self.race.card(self.repo_root)] if self.race else []
        return ([self.program] if self.program else []) + [self.repo_root / rel for rel in self.support] + race


@dataclass
class Exercise:
    slug: str
    title: str
    path: Path
    module: str
    functions: tuple[str, ...]  # the names the contract asks the student's module to define
    limits: Limits
    checks: list[CheckSpec]
    delegation: dict = field(default_factory=dict)
    version: str = ""
    training: TrainingSpec | None = None
    repo_root: Path = REPO_ROOT
    files: tuple[Path, ...] = ()  # every file the version hash covers (grader/version.py)
    cores: tuple[Core, ...] = ()  # the exercises it extends (grader/extends.py)
    starter_docstring: str = ""  # of the starter joined from the cores' (an exercise without starter.py)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def solution(self) -> Case:
        """The reference solution: solution.py, or else the cores' solutions joined."""
        own = self.path / "solution.py"
        if own.is_file() or not self.cores:
            return Case("solution", own, parts=(own,))
        parts = tuple(p for core in self.cores for p in core.exercise.solution().parts)
        return Case("solution", parts[0], parts=parts)

    def starter_source(self) -> str:
        """starter.py, or else the cores' starters joined under `starter_docstring`."""
        own = self.path / "starter.py"
        if own.is_file() or not self.cores:
            return own.read_text()
        return joined_starter(self.starter_docstring, [core.exercise.starter_source() for core in self.cores])

    def right_cases(self) -> list[Case]:
        """Correct solutions in other styles: each must get full marks. right/*.py, and the cores'
        right cases that right/cases.toml names."""
        own = [Case(p.stem, p, parts=(p,)) for p in sorted((self.path / "right").glob("*.py"))]
        return own + [inherited_case(self, "right", name, entry) for name, entry in self._cases("right").items()]

    def wrong_cases(self) -> list[Case]:
        """Known-wrong solutions, each labelled with the checks it must fail: wrong/cases.toml's
        entries with a `file` of wrong/, or `from` a core (grader/extends.py)."""
        names = {c.name for c in self.checks}
        cases = []
        for name, entry in self._cases("wrong").items():
            if "from" in entry:
                case = inherited_case(self, "wrong", name, entry)
            else:
                path = self.path / "wrong" / entry["file"]
                case = Case(name, path, tuple(entry["fails"]), entry.get("why", ""), (path,))
            unknown = set(case.fails) - names
            if unknown:
                raise SpecError(f"{self.slug}: wrong case {name} names unknown checks {sorted(unknown)}")
            cases.append(case)
        return cases

    def _cases(self, kind: str) -> dict:
        cases_file = self.path / kind / "cases.toml"
        return tomllib.loads(cases_file.read_text()) if cases_file.exists() else {}


def load_checks_module(path: Path, slug: str):
    spec = importlib.util.spec_from_file_location(f"exercise_checks_{slug.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{slug}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grading_files(exercise: Exercise, check_objects: list[Check]) -> list[Path]:
    """What decides a grade, as files (grader/version.py): the exercise's folder, its cores' files,
    the harness, its training program and support files, and the local modules that its checks
    (the files defining the check classes it uses), the delegation scan and a training exercise's
    scoring import. Their content is the exercise version; an exercise bundle carries them."""
    roots = [exercise.path / "checks.py", *harness_files()]
    roots += [Path(f.__code__.co_filename) for check in check_objects for cls in type(check).__mro__
              if issubclass(cls, Check) and cls is not Check for f in vars(cls).values() if inspect.isfunction(f)]
    if any(c.check is None for c in exercise.checks):
        roots.append(GRADER_DIR / "staticscan.py")
    if exercise.training is not None:
        roots += [*exercise.training.files(), GRADER_DIR / "metrics" / "leaderboard.py",
                  GRADER_DIR / "training_outputs.py"]
    if exercise.training is not None and exercise.training.likelihood is not None:
        module = LIKELIHOOD_FAMILIES[exercise.training.likelihood.family][0]
        roots += [GRADER_DIR / "likelihood.py", exercise.repo_root.joinpath(*module.split(".")).with_suffix(".py")]
    if exercise.training is not None and exercise.training.race is not None:
        roots.append(GRADER_DIR / "race.py")
    files = folder_files(exercise.path) + [f for core in exercise.cores for f in core.exercise.files]
    return list(dict.fromkeys(f.resolve() for f in files + import_closure(roots, exercise.repo_root)))


def _defined_names(source: str) -> set[str]:
    """The names of every def and class at any depth (a method is code too), and the names
    bound at module level by assignment or import, also inside top-level if/try/with/for
    blocks. Not attributes or parameters: `self.alphas_cumprod = ...` ships no code."""
    tree = ast.parse(source)
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        targets = [*getattr(node, "targets", []), getattr(node, "target", None)]
        names.update(n.id for t in targets if t is not None for n in ast.walk(t)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        for block in ("body", "orelse", "finalbody", "handlers"):
            pending += [n for n in getattr(node, block, []) if isinstance(n, ast.AST)]
    return names


def _shipped_file(slug: str, what: str, path: Path, inside: Path, functions: tuple[str, ...]) -> Path:
    """A public file shipped into the sandbox: it must lie inside `inside`, be Python, and
    not define any function the student is asked to write (that would ship the answer)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(inside.resolve()) or resolved.suffix != ".py" or not resolved.is_file():
        raise SpecError(f"{slug}: training {what} {path} must be an existing .py file inside {inside}")
    clash = _defined_names(resolved.read_text()) & set(functions)
    if clash:
        raise SpecError(f"{slug}: training {what} {path} defines {sorted(clash)}, which the student writes; "
                        "the sandbox must never receive them")
    return resolved


def _training_spec(slug: str, path: Path, table: dict, functions: tuple[str, ...], repo_root: Path) -> TrainingSpec:
    try:
        profiles = {name: TrainingProfile(name=name, **entry) for name, entry in table["profiles"].items()}
        program = table.get("program")
        support = tuple(table.get("support", []))
        for rel in support:
            if Path(rel).is_absolute():
                raise SpecError(f"{slug}: training support {rel} must be a path relative to the repository")
            _shipped_file(slug, "support file", repo_root / rel, repo_root, functions)
        return TrainingSpec(
            program=_shipped_file(slug, "program", path / program, path, functions) if program else None,
            support=tuple(Path(os.path.normpath(rel)).as_posix() for rel in support),
            dataset=str(table["dataset"]), checkpoint_mb=float(table["checkpoint_mb"]),
            sampler=dict(table.get("sampler", {})), profiles=profiles, repo_root=repo_root,
            likelihood=_likelihood_spec(slug, table["likelihood"]) if "likelihood" in table else None,
            race=_race_spec(slug, table, profiles, repo_root) if "race" in table else None)
    except (KeyError, TypeError) as exc:
        raise SpecError(f"{slug}: invalid [training] table ({type(exc).__name__}: {exc})") from None


def _likelihood_spec(slug: str, table: dict) -> LikelihoodSpec:
    spec = LikelihoodSpec(**table)
    if spec.family not in LIKELIHOOD_FAMILIES:
        raise SpecError(f"{slug}: [training.likelihood] family {spec.family!r} is not one of "
                        f"{list(LIKELIHOOD_FAMILIES)}")
    if not 0 <= spec.preview <= 64:
        raise SpecError(f"{slug}: [training.likelihood] preview must be 0..64, not {spec.preview}")
    return spec


def _race_spec(slug: str, table: dict, profiles: dict[str, TrainingProfile], repo_root: Path) -> RaceSpec:
    spec = RaceSpec(**table["race"])
    if "likelihood" in table:
        raise SpecError(f"{slug}: a [training] table has either a race or a likelihood board, not both")
    for rel in (spec.weights, spec.card(repo_root)):
        path = (repo_root / rel).resolve()
        if not path.is_relative_to(repo_root.resolve()) or not path.is_file():
            raise SpecError(f"{slug}: [training.race] needs the file {rel} inside the repository")
    sampler = dict(table.get("sampler", {}))
    for profile in profiles.values():
        options = {**sampler, **profile.options}
        rungs, target = options.get("rungs"), options.get("target_fid")
        if not isinstance(rungs, list) or not rungs or any(not isinstance(r, int) or r < 1 for r in rungs) \
                or rungs != sorted(set(rungs)):
            raise SpecError(f"{slug}: the race's option rungs of profile {profile.name} must be increasing "
                            f"positive integers, not {rungs!r}")
        if not isinstance(target, (int, float)) or not target > 0:
            raise SpecError(f"{slug}: the race's option target_fid of profile {profile.name} must be a positive "
                            f"number, not {target!r}")
    return spec


def load_exercise(slug: str, root: Path | None = None, *, repo_root: Path | None = None) -> Exercise:
    """The exercise `slug` of the folder `root` (default: the repository's exercises/), and the
    exercises it extends from the same folder. Training support files are relative to `repo_root`
    (a materialised bundle passes its own root)."""
    root = root or EXERCISES_DIR
    repo_root = repo_root or REPO_ROOT
    path = root / slug
    toml_path = path / "exercise.toml"
    if not toml_path.is_file():
        raise SpecError(f"unknown exercise {slug!r} (no {toml_path})")
    data = tomllib.loads(toml_path.read_text())
    cores = tuple(Core(load_exercise(core, root, repo_root=repo_root), prefix)
                  for core, prefix in parse_extends(slug, data.get("extends")))
    limits = Limits(**data.get("limits", {}))
    module = load_checks_module(path / "checks.py", slug)
    by_name = {c.name: c for c in module.CHECKS}
    checks = [spec for core in cores for spec in core.checks()]
    inherited = {c.name: core.slug for core in cores for c in core.checks()}
    for name, entry in data.get("checks", {}).items():
        if name in inherited:
            raise SpecError(f"{slug}: check {name!r} comes from {inherited[name]}, whose exercise.toml sets its points")
        visibility = entry.get("visibility", "visible")
        if visibility not in VISIBILITIES:
            raise SpecError(f"{slug}: check {name} has visibility {visibility!r}")
        if name != DELEGATION_CHECK and name not in by_name:
            raise SpecError(f"{slug}: exercise.toml names check {name!r} that checks.py does not define")
        checks.append(CheckSpec(name, float(entry["points"]), visibility, by_name.get(name)))
    missing = set(by_name) - {c.name for c in checks}
    if missing:
        raise SpecError(f"{slug}: checks {sorted(missing)} have no points in exercise.toml")
    if len({c.name for c in checks}) != len(checks):
        raise SpecError(f"{slug}: two of its checks have one name; give an extended exercise a prefix")
    functions = merged_functions(list(cores), list(data.get("functions", [])))
    if not functions:
        raise SpecError(f"{slug}: exercise.toml names no functions and extends no exercise")
    training = _training_spec(slug, path, data["training"], functions, repo_root) if "training" in data else None
    exercise = Exercise(slug=slug, title=data["title"], path=path, module=data.get("module", "solution"),
                        functions=functions, limits=limits, checks=checks,
                        delegation=merged_delegation(list(cores), data.get("delegation", {})),
                        training=training, repo_root=repo_root, cores=cores,
                        starter_docstring=data.get("starter_docstring", ""))
    exercise.files = tuple(grading_files(exercise, [*module.CHECKS, *(c.check for c in checks if c.check)]))
    exercise.version = version_of(exercise.files, root, repo_root)
    return exercise


def list_exercises(root: Path | None = None) -> list[str]:
    base = root or EXERCISES_DIR
    return sorted(p.name for p in base.iterdir() if (p / "exercise.toml").is_file())
