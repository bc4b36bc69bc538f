"""`extends` in exercise.toml: an exercise built on one or more core exercises.

It inherits each core's functions, checks (with their points and visibility, under the core's
names or a prefix), delegation rules, solution and starter, and may grade the core's right/ and
wrong/ cases itself (naming them in its own right/cases.toml and wrong/cases.toml with `from`).
Where there are several cores, a core's case is completed by the other cores' solutions. The
exercise adds only its own checks, limits and cases; nothing is copied.

    extends = "ddpm-schedule"
    extends = ["vae-elbo", {slug = "vae-reparam", prefix = "reparam_"}]
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .checkbase import Check

if TYPE_CHECKING:
    from pathlib import Path

    from .spec import Case, CheckSpec, Exercise


def _spec_error(message: str) -> Exception:
    from .spec import SpecError  # spec builds on this module

    return SpecError(message)


@dataclass(frozen=True)
class Core:
    """One exercise this one extends; its check names (and probe ids) get `prefix`."""

    exercise: Exercise
    prefix: str = ""

    @property
    def slug(self) -> str:
        return self.exercise.slug

    def rename(self, check: str) -> str:
        from .spec import DELEGATION_CHECK

        return check if check == DELEGATION_CHECK else self.prefix + check

    def checks(self) -> list[CheckSpec]:
        return [replace(c, name=self.rename(c.name),
                        check=Prefixed(c.check, self.prefix) if self.prefix and c.check else c.check)
                for c in self.exercise.checks]


def parse_extends(slug: str, value: Any) -> list[tuple[str, str]]:
    """[(core slug, prefix)] of an `extends` value: a slug, or a list of slugs and {slug, prefix} tables."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    parsed = []
    for entry in entries:
        if isinstance(entry, str):
            parsed.append((entry, ""))
        elif isinstance(entry, dict) and isinstance(entry.get("slug"), str) and set(entry) <= {"slug", "prefix"}:
            parsed.append((entry["slug"], str(entry.get("prefix", ""))))
        else:
            raise _spec_error(f"{slug}: extends takes a slug or {{slug, prefix}} tables, not {entry!r}")
    if len({s for s, _ in parsed}) != len(parsed) or slug in {s for s, _ in parsed}:
        raise _spec_error(f"{slug}: extends names an exercise twice, or itself")
    return parsed


def merged_functions(cores: list[Core], own: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([f for core in cores for f in core.exercise.functions] + own))


def merged_delegation(cores: list[Core], own: dict) -> dict:
    """The cores' delegation rules and the exercise's own: lists are joined, other values the first one set."""
    merged: dict = {}
    for rules in [core.exercise.delegation for core in cores] + [own]:
        for key, value in rules.items():
            if isinstance(value, list):
                merged[key] = list(dict.fromkeys([*merged.get(key, []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def joined_source(parts: tuple[Path, ...]) -> str:
    """One module from several files (a core's case and the other cores' solutions)."""
    return "\n\n".join(p.read_text().rstrip("\n") for p in parts) + "\n"


def joined_starter(docstring: str, starters: list[str]) -> str:
    """The cores' starters, each without its module docstring, under the exercise's own docstring."""
    bodies = []
    for text in starters:
        body = ast.parse(text).body
        has_doc = body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
        lines = text.splitlines(keepends=True)
        bodies.append("".join(lines[body[0].end_lineno:] if has_doc else lines).strip("\n"))
    return f'"""{docstring.strip()}\n"""\n' + "\n\n\n".join(bodies) + "\n"


def inherited_case(exercise: Exercise, kind: str, name: str, entry: dict) -> Case:
    """The case `name` of the exercise's right/ or wrong/ cases.toml that names a core's case with
    `from` (a core slug: its case of the same name; or {core slug: case name} for several cores).
    Its labels are the core's (renamed), and `also_fails`: the exercise's own checks it fails."""
    from .spec import Case

    sources = entry["from"] if isinstance(entry["from"], dict) else {entry["from"]: name}
    unknown = set(sources) - {core.slug for core in exercise.cores}
    if unknown:
        raise _spec_error(f"{exercise.slug}: {kind} case {name} is from {sorted(unknown)}, which it does not extend")
    parts: list[Path] = []
    fails: list[str] = []
    own_path = None
    for core in exercise.cores:
        if core.slug not in sources:
            parts += core.exercise.solution().parts
            continue
        cases = core.exercise.right_cases() if kind == "right" else core.exercise.wrong_cases()
        case = next((c for c in cases if c.name == sources[core.slug]), None)
        if case is None:
            raise _spec_error(f"{exercise.slug}: {core.slug} has no {kind} case {sources[core.slug]!r}")
        parts += case.parts
        fails += [core.rename(f) for f in case.fails]
        own_path = own_path or case.path
    fails += list(entry.get("also_fails", []))
    assert own_path is not None  # `sources` names at least one core
    return Case(name, own_path, tuple(dict.fromkeys(fails)), entry.get("why", ""), tuple(parts))


class _PrefixedPlanner:
    """A Planner whose probe ids and shared keys get a prefix; the ids handed back stay unprefixed."""

    def __init__(self, planner, prefix: str):
        self._planner, self._prefix = planner, prefix

    def __getattr__(self, name):
        return getattr(self._planner, name)

    def probe(self, probe_id, calls, objects=None):
        self._planner.probe(self._prefix + probe_id, calls, objects)
        return probe_id

    def call(self, probe_id, fn, *args, **kwargs):
        self._planner.call(self._prefix + probe_id, fn, *args, **kwargs)
        return probe_id

    def shared(self, key, build):
        return self._planner.shared(self._prefix + key, lambda _: build(self))


class _PrefixedRun:
    """A Run read through the same prefix."""

    def __init__(self, run, prefix: str):
        self._run, self._prefix = run, prefix

    def __getattr__(self, name):
        return getattr(self._run, name)

    def call(self, probe_id, index=0, **kwargs):
        return self._run.call(self._prefix + probe_id, index, **kwargs)


class Prefixed(Check):
    """A core's check under the name prefix + name, its probes under prefix + id: two cores may
    both have a check `inputs_unchanged` or a probe `gradients`. What it tests is unchanged."""

    def __init__(self, check: Check, prefix: str):
        self.check, self.prefix = check, prefix
        self.name, self.title = prefix + check.name, check.title

    def plan(self, p):
        return self.check.plan(_PrefixedPlanner(p, self.prefix))

    def judge(self, run, planned):
        return self.check.judge(_PrefixedRun(run, self.prefix), planned)
